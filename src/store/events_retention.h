/* events_retention — the SQL of the retention task: deleting old events and
 * the events past an issue's cap, a few hundred rows per transaction, and
 * keeping the SQLite file from growing without bound. Issue counts
 * (times_seen, issue_tags) are never touched.
 *
 * Called by the retention thread (src/app/retention.c) on a pooled connection;
 * every delete function runs its own short transaction so that the writer
 * (SQLite: the one write lock) waits at most one small batch. */
#ifndef PERISCOPE_STORE_EVENTS_RETENTION_H
#define PERISCOPE_STORE_EVENTS_RETENTION_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Deletes up to batch events received before cutoff_ms, oldest first.
 * Returns the number deleted (>= 0) or negative. */
int events_retention_delete_old(struct db *db, int64_t cutoff_ms, int batch);

/* Issues that may hold more than max_events events (times_seen > max: an
 * issue never holds more events than it has counted), with id > after_id,
 * ascending, at most n: their ids into ids. Returns how many (>= 0) or
 * negative. */
int events_retention_capped_issues(struct db *db, int64_t max_events, int64_t after_id,
                                   int64_t *ids, int n);

/* Deletes up to batch of the issue's oldest events beyond its newest
 * max_events. Returns the number deleted (>= 0) or negative. */
int events_retention_trim_issue(struct db *db, int64_t issue_id, int64_t max_events, int batch);

/* SQLite: incremental_vacuum when the file was created with
 * auto_vacuum=INCREMENTAL (db_sqlite.c sets it on new files), then a WAL checkpoint(TRUNCATE) so
 * the -wal file shrinks back. Postgres: nothing (autovacuum). 0 or negative. */
int events_retention_compact(struct db *db);

#endif
