/* counters — the additive per-issue counters, buffered in memory per node
 * and written every COUNTER_FLUSH_MS instead of in each writer transaction
 * (issue 21): an issue's times_seen and last_seen, its tag value counts
 * (issue_tags) and its hourly event counts (issue_hourly, what the issue
 * list's 24 h histogram reads).
 *
 * Why: each stored event used to update its issue row and tag rows in the
 * acknowledged transaction. With many issues every update dirties another
 * page and SQLite's WAL writes each dirty page whole per commit, so the
 * bytes written per event grew with the number of issues. Summed here,
 * each touched row is written once per interval however many events hit it.
 *
 * A flush is one transaction: one statement per table, each adding the
 * buffered deltas (`times_seen = times_seen + n`, so several nodes on one
 * Postgres add up), and the node's flush mark (counter_marks): the newest
 * event row whose increments are in the counters. A crash loses at most the
 * increments since the last flush, never an event: at start-up
 * counters_reconcile_each() lists the node's events past its mark, their
 * deltas are added again and flushed with the new mark, so counts end
 * exact. On Postgres events.node (a connection setting, db.c) tells one
 * node's events from another's; SQLite has one node.
 *
 * Increments are kept with the grouping hash of their events, and a flush
 * adds them to the issue that owns the hash when it runs (issue_hashes),
 * not to the issue the event was stored on: a merge or an unmerge on any
 * node between the event and the flush moves the hash, and its buffered
 * increments follow it (the issue's own id when the hash is unknown). A
 * flush takes the writer's shared lock on its projects, so it runs wholly
 * before or after a merge (store/issue_hashes.h), and a merge or unmerge
 * moves only the counts of events already flushed (COUNTERS_FLUSHED_*).
 *
 * A buffer belongs to one thread (the writer). Strings are copied. */
#ifndef PERISCOPE_STORE_COUNTERS_H
#define PERISCOPE_STORE_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct event_tags;
struct counter_buffer;

/* An MD5 hex grouping hash. */
enum { COUNTER_HASH_MAX = 32 };

struct counter_buffer *counter_buffer_new(void);
void counter_buffer_free(struct counter_buffer *b);

/* Adds one stored event: issue_id's count and last seen (timestamp_ms),
 * its tag pairs (tags may be NULL) and its hour (received_at_ms). 0 or
 * -ENOMEM (what could not be added is lost until a restart reconciles). */
int counter_buffer_add_event(struct counter_buffer *b, int64_t issue_id, int64_t timestamp_ms,
                             int64_t received_at_ms, const struct event_tags *tags);

/* One event's increments: its issue, project and grouping hash (NULL or
 * "": none, the increments stay on issue_id), times and tags (may be
 * NULL). */
struct counter_event {
    int64_t issue_id, project_id;
    const char *hash;
    int64_t timestamp_ms, received_at_ms;
    const struct event_tags *tags;
};

/* Adds n (negative: takes away) of ev's increments. 0 or -ENOMEM. */
int counter_buffer_add(struct counter_buffer *b, const struct counter_event *ev, int64_t n);

/* Distinct rows waiting (issues + tag pairs + hours). */
size_t counter_buffer_rows(const struct counter_buffer *b);

/* Writes the buffer in one transaction of its own on db (no transaction
 * open), with node's flush mark moved to the newest event node stored, and
 * empties it. On failure the buffer is kept for the next try. Rows of
 * issues deleted meanwhile are skipped. 0 or negative. */
int counters_flush(struct db *db, struct counter_buffer *b, int node);

/* Adds the buffer's rows inside the caller's transaction (no mark, no
 * lock, the buffer kept): how an unmerge's recount is written (negative
 * counts take away; rows left at 0 are the caller's to delete). 0 or
 * negative. */
int counters_apply(struct db *db, const struct counter_buffer *b);

/* An SQL condition, per dialect, true for an event row (alias e) whose
 * increments are in the counters already: at or below its node's flush
 * mark (on Postgres events stored before nodes were recorded count too). */
#define COUNTERS_FLUSHED_SQLITE                                                                    \
    "e.id <= COALESCE((SELECT event_mark FROM counter_marks WHERE node = 0), 0)"
#define COUNTERS_FLUSHED_POSTGRES                                                                  \
    "(e.node IS NULL OR e.id <= COALESCE((SELECT m.event_mark FROM counter_marks m"                \
    " WHERE m.node = e.node), 0))"

/* The node's flush mark (0: none yet). 0 or negative. */
int counters_mark(struct db *db, int node, int64_t *mark);

/* An event past a flush mark, as counters_reconcile_each gives it. */
struct counters_event {
    int64_t id, issue_id, project_id, timestamp_ms, received_at_ms;
    const char *hash; /* NULL for events stored before issue_hashes */
    uint8_t event_id[16];
    const void *payload; /* zstd, borrowed for the call */
    size_t payload_len;
};

/* Calls fn for each of node's events with id > mark, in id order; fn
 * returns 0 to go on or a negative code that stops the walk and is
 * returned. 0 or negative. */
int counters_reconcile_each(struct db *db, int node, int64_t mark,
                            int (*fn)(void *ctx, const struct counters_event *ev), void *ctx);

#endif
