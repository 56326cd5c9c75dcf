/* store/triage_write — the SQL the writer runs for triage (issue 19):
 * releases and an issue's first/last release, users affected (the exact
 * set, then a HyperLogLog sketch), per-window counts, snoozes that pass,
 * resolutions in a release, alert rule firings, and alerts routed by rules.
 *
 * Like events_write.h: every function runs prepared statements on the
 * caller's connection inside the caller's transaction (the writer's), never
 * begins or commits, and returns 0 (or the documented positive value) or a
 * negative errno. Decisions several nodes could race on (unsnoozing, a
 * rule firing) are taken by the row a conditional statement changes. */
#ifndef PERISCOPE_STORE_TRIAGE_WRITE_H
#define PERISCOPE_STORE_TRIAGE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* Users counted exactly per issue (issue_users); past it, the sketch. */
#define TRIAGE_WRITE_USERS_EXACT_MAX 10000

/* Adds events and new issues to the project's release (created first seen
 * at seen_ms). */
int triage_write_release(struct db *db, int64_t project_id, const char *version, int64_t seen_ms,
                         int64_t events, int64_t new_issues);

/* Sets the issue's last_release, and first_release when it has none;
 * first may be NULL (keep), last NULL (keep). */
int triage_write_issue_releases(struct db *db, int64_t issue_id, const char *first,
                                const char *last);

/* The issue's user_count. */
int triage_write_user_count(struct db *db, int64_t issue_id, int64_t *count);
/* Adds a user hash to the exact set: 1 new, 0 known. */
int triage_write_user_insert(struct db *db, int64_t issue_id, int64_t user_hash);
/* user_count = count. */
int triage_write_user_count_set(struct db *db, int64_t issue_id, int64_t count);
/* The issue's sketch into regs (HLL_REGISTERS bytes; locked for this
 * transaction on Postgres): 1 found, 0 none (regs zeroed). */
int triage_write_sketch_load(struct db *db, int64_t issue_id, uint8_t *regs);
/* Adds every hash of the exact set to regs (when the sketch takes over). */
int triage_write_sketch_seed(struct db *db, int64_t issue_id, uint8_t *regs);
int triage_write_sketch_store(struct db *db, int64_t issue_id, const uint8_t *regs);

/* Adds events to the issue's window (minutes, start): the totals after. */
int triage_write_window_add(struct db *db, int64_t issue_id, int minutes, int64_t start,
                            int64_t events, int64_t *events_total, int64_t *users_total);
/* Counts a user in the window once: 1 when new (users + 1), 0 known. */
int triage_write_window_user(struct db *db, int64_t issue_id, int minutes, int64_t start,
                             int64_t user_hash);
/* Deletes windows that ended before before_ms. */
int triage_write_windows_prune(struct db *db, int64_t before_ms);

/* An ignored issue's snooze, with the issue's counts now. */
struct triage_snooze {
    char kind[8]; /* count | until | users | rate */
    int64_t threshold, until_ms;
    int window_minutes;
    int64_t base_times_seen, base_users;
    int64_t times_seen, user_count;
};
/* 0, or -ENOENT when the issue has none. */
int triage_write_snooze_get(struct db *db, int64_t issue_id, struct triage_snooze *out);
/* ignored → unresolved, the snooze removed: 1 when this call did it. */
int triage_write_unsnooze(struct db *db, int64_t issue_id);

/* A resolved issue's release condition: kind "version" (version set) or
 * "next_release" (after: the newest release when resolved, or NULL).
 * Strings malloc'd, caller frees. 0, or -ENOENT when it has none. */
int triage_write_resolution_get(struct db *db, int64_t issue_id, char **kind, char **version,
                                char **after);
/* The order releases a and b were first seen in the project: *cmp < 0, 0,
 * > 0. A release not seen yet is after every seen one. */
int triage_write_release_order(struct db *db, int64_t project_id, const char *a, const char *b,
                               int *cmp);

/* Records that rule fired for the issue unless it fired in the same
 * window (window_start, 0: none) or less than throttle_ms ago: 1 fired
 * (the caller raises the alert), 0 not. */
int triage_write_rule_fire(struct db *db, int64_t project_id, const char *rule, int64_t issue_id,
                           int64_t now_ms, int64_t window_start, int64_t throttle_ms);

/* Inserts an alert and one pending delivery per enabled destination of the
 * project; rule_match is 1 for every one when all_match, else only for
 * dest_ids[0..n). 0 with *alert_id. */
int triage_write_alert(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       const uint8_t event_id[16], int64_t now_ms, bool all_match,
                       const int64_t *dest_ids, size_t n, int64_t *alert_id);

#endif
