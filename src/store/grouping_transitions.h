/* store/grouping_transitions — a project's previous grouping while a
 * grouping transition lasts (table grouping_transitions, migration 0302):
 * recorded just before its script, its grouping rules or the server's
 * default grouping config change, read by the pipeline workers (through
 * the script registry) when they build the project's state.
 *
 * Functions take a connection the caller holds and return 0 or a negative
 * errno (-ENOENT: no such project / no transition running). */
#ifndef PERISCOPE_STORE_GROUPING_TRANSITIONS_H
#define PERISCOPE_STORE_GROUPING_TRANSITIONS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define GROUPING_TRANSITION_DAYS_MAX 90

/* The previous grouping (owned strings, NULL when absent). */
struct grouping_transition {
    int64_t prev_version; /* 0: the default rules */
    char *prev_source;    /* that version's source; NULL for the default rules */
    size_t prev_len;
    char *prev_fingerprint_rules, *prev_stacktrace_rules;
    char *prev_config; /* GROUPING_CONFIG_ID then */
    int64_t expires_at_ms;
};

void grouping_transition_clear(struct grouping_transition *t);

/* Records the project's grouping as it is now as the previous one, for
 * the project's grouping_transition_days from now_ms (replacing a running
 * transition; none when the setting is 0). Call before the change. */
int grouping_transition_begin(struct db *db, int64_t project_id, int64_t now_ms);

/* The project's transition, when one runs at now_ms. */
int grouping_transition_get(struct db *db, int64_t project_id, int64_t now_ms,
                            struct grouping_transition *out);

/* At start: projects whose issues were made with another default grouping
 * config than config_id begin a transition from it (their script and rules
 * unchanged) and are marked config_id; projects without a mark get it.
 * *started: how many began one. */
int grouping_transition_config_check(struct db *db, const char *config_id, int64_t now_ms,
                                     int *started);

/* projects.grouping_transition_days: 0..GROUPING_TRANSITION_DAYS_MAX. */
int grouping_transition_days_get(struct db *db, int64_t project_id, int *days);
int grouping_transition_days_set(struct db *db, int64_t project_id, int days);

#endif
