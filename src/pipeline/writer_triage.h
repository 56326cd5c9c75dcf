/* writer_triage — the writer's triage work inside a batch's transaction
 * (issue 19): alerts routed by the project's alert rules, the release
 * check of a resolved issue, and after the counts: releases and an issue's
 * first/last release, users affected (exact, then HyperLogLog), per-window
 * counts, snoozes whose condition passed (→ unresolved, "escalating" alert)
 * and frequency rules (→ "frequency" alert, once per issue and window).
 *
 * Belongs to the writer thread (one per struct writer_batch). Events and
 * their strings are borrowed for the batch; writer_triage_reset forgets
 * them (and the rules read for it) before the next one. Decisions several
 * nodes could race on are taken by the store's conditional statements
 * (store/triage_write.h), so each alert is raised once. */
#ifndef PERISCOPE_PIPELINE_WRITER_TRIAGE_H
#define PERISCOPE_PIPELINE_WRITER_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/triage_write.h"

struct db;
struct grouped_event;
struct writer_triage;

/* Users counted exactly per issue; past it, the estimate. */
#define TRIAGE_USERS_EXACT_MAX TRIAGE_WRITE_USERS_EXACT_MAX

/* Receives each alert raised (after its row and outbox rows exist). */
typedef int (*writer_triage_sink)(void *ctx, int64_t alert_id, int64_t project_id, int64_t issue_id,
                                  const char *kind);

struct writer_triage *writer_triage_new(size_t batch_max, writer_triage_sink sink, void *sink_ctx);
void writer_triage_free(struct writer_triage *t);
/* Before a batch (or after a rollback). */
void writer_triage_reset(struct writer_triage *t);

/* An alert of kind (new | regression | escalating) on ev's issue: rules
 * choose the destinations (outbox rows for every enabled destination, those
 * chosen marked rule_match), then the sink hears of it. */
int writer_triage_alert(struct writer_triage *t, struct db *db, int64_t issue_id, const char *kind,
                        const struct grouped_event *ev, int64_t now_ms);

/* A resolved issue and one of its events: 1 when the event may reopen it
 * (no release resolution, or ev's release is that release or later), 0
 * when it only counts (older release, or none). */
int writer_triage_may_reopen(struct writer_triage *t, struct db *db, int64_t issue_id,
                             const struct grouped_event *ev);

/* One stored event of the batch on issue_id (created: by this batch;
 * ignored: the issue's status when looked up). */
int writer_triage_event(struct writer_triage *t, int64_t issue_id, bool created, bool ignored,
                        const struct grouped_event *ev);

/* After the issue counts: releases, users, windows, snoozes, frequency. */
int writer_triage_flush(struct writer_triage *t, struct db *db, int64_t now_ms);

#endif
