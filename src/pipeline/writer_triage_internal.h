/* writer_triage internals shared by writer_triage.c (batch state, alert
 * routing, reopening) and writer_triage_flush.c (the after-count phases). */
#ifndef PERISCOPE_PIPELINE_WRITER_TRIAGE_INTERNAL_H
#define PERISCOPE_PIPELINE_WRITER_TRIAGE_INTERNAL_H

#include "pipeline/writer_triage.h"

struct alert_rules;
struct alert_rule;

/* One issue with stored events in the batch. */
struct triage_issue {
    int64_t project_id, issue_id;
    const struct grouped_event *last_ev;      /* the last stored event (borrowed) */
    const char *first_release, *last_release; /* borrowed from events; NULL: none */
    bool created, ignored;
    int64_t events;
    /* A resolved issue's release condition, read once per batch. */
    bool resolution_read;
    char *res_kind, *res_version, *res_after;
};

/* One (issue, user) pair of the batch (hash of the user tag). */
struct triage_user {
    uint32_t issue; /* index into issues */
    uint64_t hash;
};

/* One (project, release) of the batch. */
struct triage_release {
    int64_t project_id;
    const char *version; /* borrowed */
    int64_t events, new_issues, first_ms, last_ms;
};

struct triage_rules_entry {
    int64_t project_id;
    struct alert_rules *rules;
};

struct writer_triage {
    size_t batch_max;
    writer_triage_sink sink;
    void *sink_ctx;
    struct triage_issue *issues;
    size_t nissues;
    uint32_t *slots; /* open addressing on issue_id: index + 1, 0 empty */
    size_t mask;
    struct triage_user *users;
    size_t nusers;
    struct triage_release *releases;
    size_t nreleases;
    struct triage_rules_entry *rules;
    size_t nrules;
    int64_t last_prune_ms;
};

/* The project's rules for this batch (read once; the default set when it
 * has none or they cannot be read as stored). NULL only on OOM. */
const struct alert_rules *triage_rules_for(struct writer_triage *t, struct db *db,
                                           int64_t project_id);

/* Inserts an alert routed to the destinations of the matching rules (only:
 * that rule alone, for frequency alerts) and tells the sink. */
int triage_raise(struct writer_triage *t, struct db *db, int64_t issue_id, const char *kind,
                 const struct grouped_event *ev, const struct alert_rule *only, int64_t now_ms);

#endif
