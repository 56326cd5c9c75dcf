/* libFuzzer target: the default grouping on fuzzed events — normalized
 * (and trimmed) as the worker does, then lua/periscope/grouping.lua in a
 * capped vm, and the C fallback grouping. The default grouping must group
 * every event it is given: an error from it (a pattern refused, a timeout,
 * the memory cap, a wrong shape) aborts, so the fuzzer reports it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/event.h"
#include "grouping/fallback.h"
#include "model/jsoncheck.h"
#include "lua/script.h"
#include "model/normalize.h"

static struct script *grouping;

static struct script *the_grouping(void)
{
    if (grouping) return grouping;
    struct vm_limits limits;
    vm_limits_from_config(NULL, &limits);
    limits.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    struct vm_error err;
    if (script_open(&limits, NULL, 0, &grouping, &err) != 0) {
        fprintf(stderr, "default grouping did not load: %s\n", err.trace);
        abort();
    }
    return grouping;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script *s = the_grouping();
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    cJSON *json = NULL;
    const char *why;
    int parsed = jsoncheck_parse_event(buf, size, 64, &json, &why);
    free(buf);
    if (parsed != 0) return 0;
    struct grouped_event *ev = grouped_event_new();
    if (!ev) abort();
    ev->project_id = 1;
    if (normalize_event(json, ev) == 0) {
        struct script_result res;
        int rc = script_run(s, json, true, &res);
        if (rc != 0 || res.nerrors > 0) {
            fprintf(stderr, "default grouping failed (rc %d): %s: %s\n", rc,
                    res.nerrors ? res.errors[0].hook : "-",
                    res.nerrors ? res.errors[0].error.trace : "-");
            abort();
        }
        script_result_clear(&res);
        grouping_fallback(json, ev->hash, &ev->title, &ev->culprit);
    }
    cJSON_Delete(json);
    grouped_event_free(ev);
    return 0;
}
