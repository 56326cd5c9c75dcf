/* rules_check — the offline dry run behind `periscope rules check`. */
#include "scripts/rules_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "scripts/dryrun.h"
#include "base/log.h"
#include "lua/script.h"

#define EXIT_SCRIPT_ERROR 1
#define EXIT_USAGE 2
#define EVENT_MAX_BYTES (16u << 20)

const char rules_check_usage[] =
    "usage: periscope rules check SCRIPT.lua --event EVENT.json [--format TYPE] [--json]\n\n"
    "Runs SCRIPT.lua on EVENT.json the way the server would (normalize, scrub with\n"
    "the default settings and the script's scrub hook, filter, grouping, hash) and\n"
    "prints the filter result, the grouping components, the hash, title and\n"
    "culprit, the event as it would be stored, and the notification each\n"
    "destination type would get (only TYPE with --format). --json prints the same\n"
    "object as POST /api/admin/projects/{id}/script/test. Needs no server or database.\n"
    "Exit status: 0 clean, 1 the script failed to load or a hook failed, 2 usage.\n";

struct args {
    const char *script, *event, *format;
    bool json;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 2 || strcmp(argv[1], "check") != 0) return -EINVAL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--event") == 0 && i + 1 < argc)
            a->event = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            a->format = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            a->json = true;
        else if (argv[i][0] != '-' && !a->script)
            a->script = argv[i];
        else
            return -EINVAL;
    }
    return a->script && a->event ? 0 : -EINVAL;
}

/* Reads at most max bytes of path (NUL-terminated, caller frees). */
static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "periscope: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool failed = !buf || ferror(f);
    fclose(f);
    if (failed || n > max) {
        fprintf(stderr, "periscope: %s: %s\n", path, failed ? "cannot read" : "too large");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Keys sorted: the notification bodies come from Lua tables, whose order
 * changes from run to run; a check's output should not. */
static void print_json(FILE *out, const cJSON *v, size_t indent)
{
    char *s = json_print(v, JSON_PRINT_INDENT((int)indent) | JSON_PRINT_SPACED | JSON_PRINT_SORT);
    fprintf(out, "%s\n", s ? s : "null");
    free(s);
}

/* An error's message without the "script:LINE: " the line is printed from. */
static const char *bare_message(const cJSON *e)
{
    const char *m = json_str(json_get(e, "message"));
    if (!m) return "";
    const char *p = m + strlen(VM_OPERATOR_CHUNK ":");
    if (strncmp(m, VM_OPERATOR_CHUNK ":", strlen(VM_OPERATOR_CHUNK ":")) != 0) return m;
    while (*p >= '0' && *p <= '9')
        p++;
    return strncmp(p, ": ", 2) == 0 ? p + 2 : m;
}

/* v's text, or "(null)" as printf prints a missing one. */
static const char *text_of(const cJSON *v)
{
    const char *s = json_str(v);
    return s ? s : "(null)";
}

/* "syntax error at line 4" / "type error" (no line known). */
static void print_error_head(const cJSON *e)
{
    int line = (int)json_i64(json_get(e, "line"));
    printf("%s error", json_str(json_get(e, "kind")));
    if (line > 0) printf(" at line %d", line);
}

static void print_report(const cJSON *r)
{
    cJSON *errors = json_get(r, "errors");
    cJSON *first = json_at(errors, 0);
    const char *first_hook = json_str(json_get(first, "hook"));
    if (first_hook && strcmp(first_hook, "load") == 0) {
        /* Nothing ran: there is no filter result, hash or notification. */
        printf("script:     does not load: ");
        print_error_head(first);
        printf(": %s\n", bare_message(first));
        return;
    }
    bool filtered = cJSON_IsTrue(json_get(r, "filtered"));
    printf("filter:     %s\n", filtered ? "dropped (filter returned false)" : "kept");
    if (!filtered) {
        printf("components:\n");
        size_t i;
        cJSON *c;
        json_array_each(json_get(r, "components"), i, c) printf("  %s\n", text_of(c));
        printf("hash:       %s\n", json_str(json_get(r, "hash")));
        printf("title:      %s\n", json_str(json_get(r, "title")));
        printf("culprit:    %s\n", json_str(json_get(r, "culprit")));
    }
    printf("scrubbed:   %lld value(s) by the default scrubbing rules\n",
           (long long)json_i64(json_get(r, "scrubbed")));
    printf("errors:%s\n", json_size(errors) ? "" : "     none");
    size_t i;
    cJSON *e;
    json_array_each(errors, i, e)
    {
        printf("  %s: ", text_of(json_get(e, "hook")));
        print_error_head(e);
        printf(": %s (the default was used)\n", bare_message(e));
    }
    if (!filtered) {
        printf("\nevent as it would be stored (normalized, scrubbed):\n");
        print_json(stdout, json_get(r, "event"), 2);
    }
    const char *type;
    cJSON *body;
    json_object_each((cJSON *)json_get(r, "notifications"), type, body)
    {
        printf("\nnotification %s:\n", type);
        print_json(stdout, body, 2);
    }
}

/* The dry run's object for a script that did not load. */
static cJSON *load_failure(const struct vm_error *err)
{
    return json_build("{s:n, s:[], s:n, s:n, s:n, s:n, s:n, s:n, s:{}, s:[{s:s, s:s, s:s, s:i}]}",
                      "filtered", "components", "hash", "title", "culprit", "issue_id", "scrubbed",
                      "event", "notifications", "errors", "hook", "load", "kind",
                      vm_error_kind_name(err->kind), "message", err->message, "line", err->line);
}

static int run(const struct args *a, const struct config *cfg)
{
    struct vm_limits limits;
    vm_limits_from_config(cfg, &limits);
    size_t src_len = 0, ev_len = 0;
    char *source = read_file(a->script, limits.script_max_bytes, &src_len);
    char *event_text = source ? read_file(a->event, EVENT_MAX_BYTES, &ev_len) : NULL;
    cJSON *event = event_text ? cJSON_ParseWithLength(event_text, ev_len) : NULL;
    int rc = EXIT_USAGE;
    cJSON *result = NULL;
    struct script *s = NULL;
    if (event_text && !cJSON_IsObject(event))
        fprintf(stderr, "periscope: %s: not a JSON object\n", a->event);
    if (!cJSON_IsObject(event)) goto done;
    struct vm_error err = {0};
    if (script_open(&limits, source, src_len, &s, &err) != 0) {
        result = load_failure(&err);
        rc = EXIT_SCRIPT_ERROR;
    } else {
        struct dryrun_input in = {.project_id = 1,
                                  .project_name = "rules check",
                                  .event = event,
                                  .format_type = a->format,
                                  .public_url = cfg->public_url};
        int r = dryrun_run(s, &in, &result);
        if (r != 0) {
            fprintf(stderr, "periscope: %s\n",
                    r == -EINVAL ? "unknown --format type" : strerror(-r));
            goto done;
        }
        rc = json_size(json_get(result, "errors")) ? EXIT_SCRIPT_ERROR : 0;
    }
    if (a->json)
        print_json(stdout, result, 2);
    else
        print_report(result);
done:
    cJSON_Delete(result);
    script_close(s);
    cJSON_Delete(event);
    free(event_text);
    free(source);
    return rc;
}

int rules_check_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(rules_check_usage, stdout);
            return 0;
        }
    struct args a;
    if (parse_args(argc, argv, &a) != 0) {
        fputs(rules_check_usage, stderr);
        return EXIT_USAGE;
    }
    struct config cfg;
    char err[256];
    if (config_load(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        return EXIT_USAGE;
    }
    log_init(LOG_FORMAT_TEXT, cfg.debug); /* script log lines go to stderr, readable */
    return run(&a, &cfg);
}
