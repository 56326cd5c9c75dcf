/* alert — the message the writer publishes on the "alerts" topic after a
 * commit that raised alerts. The deliveries table is the source of truth
 * (the outbox); the message only wakes the notifier early. The notifier owns
 * and frees it (free()). */
#ifndef PERISCOPE_ALERT_H
#define PERISCOPE_ALERT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct alert_msg {
    int64_t alert_id;
    int64_t project_id;
    int64_t issue_id;
    char kind[16]; /* "new" | "regression" */
};

/* The data a message about one alert is made of: the alert table of
 * lua/periscope/format.lua, as C. The store fills it from the alert's rows
 * (store/deliveries.h), the notifier adds message_id and public_url, and
 * lua/alert_table.c pushes it into Lua as a table (times as RFC 3339, the
 * issue link made from public_url). Strings are borrowed, NULL when absent
 * (a field the table leaves out); when the store filled it they live in
 * `owned`, freed by alert_data_clear. */
struct alert_data {
    int64_t id;
    const char *kind; /* "new" | "regression" | "escalating" | "frequency" | "test" */
    long long created_at_ms;
    const char *message_id; /* stable across retries: "dlv_<delivery id>" */
    const char *public_url; /* the issue link's base (a trailing slash is dropped) */
    struct {
        int64_t id, project_id, count;
        const char *title, *culprit, *level, *status, *hash;
        long long first_seen_ms, last_seen_ms;
    } issue;
    struct {
        int64_t id;
        const char *name;
    } project;
    struct {
        const char *event_id, *environment, *release, *level; /* all NULL: the event is gone */
    } event;
    char *owned; /* NULL, or the one block the strings point into */
};

static inline void alert_data_clear(struct alert_data *a)
{
    free(a->owned);
    memset(a, 0, sizeof *a);
}

/* The destination a formatter is told about: never its URL or secrets. */
struct alert_destination {
    int64_t id;
    const char *type, *name; /* borrowed */
};

#endif
