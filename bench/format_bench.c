/* format_bench — the notifier's formatting step on N alerts (default
 * 10,000) to a Slack destination, as lua/script_format.c does it: the
 * alert's struct (as store/deliveries_alert.c fills it) pushed into the
 * vm, the default formatter, or the project's format() hook returning a
 * table; the message read from the results. Prints µs per alert.
 *
 *   cmake --build build --target bench_format_bench && build/bench_format_bench 10000 [0|1]
 * (a second argument runs only the default (0) or only the format() case (1)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/script.h"
#include "lua/script_format.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    struct vm_limits l;
    vm_limits_from_config(NULL, &l);
    l.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    l.time_limit_ms = 600000; /* also under valgrind */
    const char *hook =
        "return { format = function(a, d) return { text = d.name .. ': ' .. a.title, "
        "issue = a.issue.id, link = a.link } end }";
    struct script *plain, *with_hook;
    struct vm_error e;
    if (script_open(&l, NULL, 0, &plain, &e) != 0 ||
        script_open(&l, hook, strlen(hook), &with_hook, &e) != 0) {
        fprintf(stderr, "%s\n", e.trace);
        return 1;
    }
    struct alert_destination dest = {.id = 3, .type = "slack_webhook", .name = "ops"};
    int only = argc > 2 ? atoi(argv[2]) : -1; /* 0: default only, 1: format() only */
    for (int c = 0; c < 2; c++) {
        if (only >= 0 && c != only) continue;
        struct script *s = c ? with_hook : plain;
        size_t bytes = 0;
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            struct alert_data a = {
                .id = i,
                .kind = "new",
                .created_at_ms = 1795629600000LL,
                .message_id = "dlv_1",
                .public_url = "https://periscope.example",
                .issue = {.id = 7,
                          .project_id = 1,
                          .title = "ZeroDivisionError: division by zero",
                          .culprit = "app.views in divide",
                          .level = "error",
                          .status = "unresolved",
                          .first_seen_ms = 1795629600000LL,
                          .last_seen_ms = 1795629600000LL,
                          .count = 3,
                          .hash = "0123456789abcdef0123456789abcdef"},
                .project = {.id = 1, .name = "shop"},
                .event = {.event_id = "fc6d8c0c43fc4630ad850ee518f1b9d0",
                          .environment = "production",
                          .release = "shop@1.2.3",
                          .level = "error"},
            };
            struct script_message m;
            struct vm_error he;
            char err[256];
            if (script_format_alert(s, &a, &dest, &m, &he, err, sizeof err) != 0 || he.kind) {
                fprintf(stderr, "failed: %s %s\n", err, he.message);
                return 1;
            }
            bytes += strlen(m.body);
            script_message_clear(&m);
        }
        double t = now_s() - t0;
        printf("%-9s %d alerts: %.3f s, %.1f us/alert (%zu body bytes)\n",
               c ? "format()" : "default", n, t, t / n * 1e6, bytes / (size_t)n);
    }
    script_close(plain);
    script_close(with_hook);
    return 0;
}
