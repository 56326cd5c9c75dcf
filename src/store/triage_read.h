/* store/triage_read — what the admin API reads and sets for triage (issue
 * 19): a project's alert rules (text), its releases, and an issue's status
 * change with a snooze or a release resolution. Pooled connections (HTTP
 * threads); 0 or a negative errno (-ENOENT: no such issue/project row). */
#ifndef PERISCOPE_STORE_TRIAGE_READ_H
#define PERISCOPE_STORE_TRIAGE_READ_H

#include <stdint.h>
#include "base/json.h"

struct db;

/* The project's stored rules JSON text (caller frees), -ENOENT: none. */
int alert_rules_load(struct db *db, int64_t project_id, char **text);
/* Stores (text non-NULL) or removes (NULL: back to the default) them. */
int alert_rules_save(struct db *db, int64_t project_id, const char *text, int64_t now_ms);
/* Whether id names a destination of the project: 1 yes, 0 no. */
int alert_rules_destination_exists(struct db *db, int64_t project_id, int64_t id);

/* The project's releases, newest first seen first: [{"version",
 * "first_seen", "last_seen", "events", "new_issues"}] (times in ms). */
int releases_list(struct db *db, int64_t project_id, cJSON **out);

/* A snooze for issue_triage_set (kind NULL: none). */
struct issue_snooze_spec {
    const char *kind; /* count | until | users | rate */
    int64_t threshold, until_ms;
    int window_minutes;
};

/* A release resolution (kind NULL: none): "version" (version set) or
 * "next_release". */
struct issue_resolution_spec {
    const char *kind;
    const char *version;
};

/* Sets the issue's status in one transaction, replacing its snooze and
 * resolution with those given (only with ignored / resolved). */
int issue_triage_set(struct db *db, int64_t project_id, int64_t issue_id, const char *status,
                     const struct issue_snooze_spec *snooze,
                     const struct issue_resolution_spec *resolution);

/* The same for each of ids[0..n) in one transaction (ids that are no
 * issue of the project are skipped): *updated how many changed. */
int issue_triage_set_bulk(struct db *db, int64_t project_id, const int64_t *ids, size_t n,
                          const char *status, const struct issue_snooze_spec *snooze,
                          const struct issue_resolution_spec *resolution, int64_t *updated);

/* Removes the issue's snooze and resolution (a plain status change). */
int issue_triage_clear(struct db *db, int64_t project_id, int64_t issue_id);

/* Adds "ignore_until" / "resolved_in" to an issue row (id) when it has a
 * snooze or resolution. */
int issue_triage_describe(struct db *db, cJSON *issue);

#endif
