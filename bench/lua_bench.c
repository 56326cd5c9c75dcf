/* lua_bench — µs per event for the Lua stages of the pipeline, on a
 * recorded Python SDK event (3.7 KB): building the event table (the
 * grouping fields only, and the whole event), the default grouping, and a
 * project script with filter + fingerprint hooks.
 *
 * Usage: bench_lua_bench [EVENTS] (default 20000). The event is the
 * recorded request in tests/fixtures/sdk. Uses LUA_DIR's
 * periscope/grouping.lua when present, else the test fixture module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cjson/cJSON.h>

#include "lua/event_table.h"
#include "lua/script.h"

#define SAMPLE_FILE PERISCOPE_SOURCE_DIR "/tests/fixtures/sdk/python-sdk-1.9.10-1.body"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static cJSON *load_event(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 20];
    int n = gzread(f, buf, sizeof buf - 1);
    gzclose(f);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    return cJSON_Parse(buf);
}

static int bench_table(struct script *s, const cJSON *ev, const char *const *fields, int n,
                       const char *label)
{
    struct event_table_args args = {.event = ev,
                                    .max_depth = 64,
                                    .fields = fields,
                                    .skip_keys = fields ? event_table_grouping_skip : NULL,
                                    .narrow = fields ? event_table_grouping_narrow : NULL};
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        struct vm_error err;
        if (vm_cpcall(script_vm(s), event_table_push, &args, 1, &err) != 0) {
            fprintf(stderr, "%s: %s\n", label, err.trace);
            return -1;
        }
        lua_pop(vm_lua(script_vm(s)), 1);
    }
    printf("%-44s %7.2f us/event\n", label, (now_us() - t0) / n);
    return 0;
}

static int bench_run(struct script *s, const cJSON *ev, int n, const char *label)
{
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        struct script_result res;
        if (script_run(s, ev, false, &res) != 0 || res.nerrors) {
            fprintf(stderr, "%s: %s\n", label, res.nerrors ? res.errors[0].error.trace : "failed");
            return -1;
        }
        script_result_clear(&res);
    }
    printf("%-44s %7.2f us/event\n", label, (now_us() - t0) / n);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct vm_limits limits;
    vm_limits_from_config(NULL, &limits);
    const char *lua_dir = getenv("LUA_DIR") ? getenv("LUA_DIR") : PERISCOPE_SOURCE_DIR "/lua";
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/periscope/grouping.lua", lua_dir);
    if (access(probe, R_OK) != 0) lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua";
    limits.lua_dir = lua_dir;
    printf("grouping module from %s, %d events\n", lua_dir, n);

    cJSON *ev = load_event(SAMPLE_FILE);
    if (!ev) {
        fprintf(stderr, "cannot read %s\n", SAMPLE_FILE);
        return 1;
    }
    const char *project =
        "return {\n"
        "  filter = function(e) return e.environment ~= 'development' end,\n"
        "  fingerprint = function(e, default)\n"
        "    local ex = e.exception and e.exception.values and e.exception.values[1]\n"
        "    if ex and ex.type == 'ConnectionError' then return { 'connection-error' } end\n"
        "    return { '{{ default }}', e.release or 'none' }\n"
        "  end,\n"
        "}\n";
    struct script *plain = NULL, *hooks = NULL;
    struct vm_error err;
    if (script_open(&limits, NULL, 0, &plain, &err) != 0 ||
        script_open(&limits, project, strlen(project), &hooks, &err) != 0) {
        fprintf(stderr, "script_open: %s\n", err.trace);
        return 1;
    }
    int rc =
        bench_table(plain, ev, event_table_grouping_fields, n, "event table, grouping fields") ||
        bench_table(plain, ev, NULL, n, "event table, whole event") ||
        bench_run(plain, ev, n, "default rules (table + grouping + hash)") ||
        bench_run(hooks, ev, n, "project script filter + fingerprint (all)");
    script_close(plain);
    script_close(hooks);
    cJSON_Delete(ev);
    return rc ? 1 : 0;
}
