/* store/events_write — the SQL of the pipeline's writer: issues found and
 * created, events inserted once, alerts and their outbox rows.
 *
 * Every function runs one or two prepared statements on the caller's
 * connection inside the caller's transaction (the writer thread's
 * store_writer() connection); none begins or commits. Statements are safe
 * for several nodes on one Postgres: issue creation and reopening are
 * decided by the row a statement wins (ON CONFLICT, conditional UPDATE). */
#ifndef PERISCOPE_STORE_EVENTS_WRITE_H
#define PERISCOPE_STORE_EVENTS_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* One event as the writer hands it to the store: the columns of its row
 * (and of its issue's, when it is an issue's first event). Every pointer
 * is borrowed for the call; title, culprit and message NULL store "",
 * level NULL stores "error", environment and release NULL store NULL. */
struct event_row {
    int64_t project_id;
    uint8_t event_id[16];
    int64_t received_at_ms;
    int64_t timestamp_ms; /* the event's own time: first/last seen of a new issue */
    const char *hash;     /* 32 hex digits */
    const char *title, *culprit, *level, *environment, *release, *message;
    const void *payload; /* zstd of the event JSON */
    size_t payload_len;
};

/* The writer's transaction, so that nothing outside src/store/ needs db.h.
 * Each returns 0 or negative; rollback is safe after any failure. */
int events_write_begin(struct db *db);
int events_write_commit(struct db *db);
void events_write_rollback(struct db *db);
/* The last error's text, borrowed until the next call on db. */
const char *events_write_errmsg(struct db *db);
/* SELECT 1 within the connection's timeout: does the database answer the
 * writer? 0 or negative (errmsg says why). */
int events_write_ping(struct db *db);
/* Postgres: whether the connection was re-established since last asked. */
bool events_write_reconnected(struct db *db);

enum issue_status { ISSUE_UNRESOLVED, ISSUE_RESOLVED, ISSUE_IGNORED };

/* The issue of (project, hash): 0 with *id and *status, -ENOENT when there
 * is none, other negative on error. */
int events_write_issue_find(struct db *db, int64_t project_id, const char *hash, int64_t *id,
                            enum issue_status *status);

/* Issues per multi-hash lookup. */
enum { EVENTS_WRITE_FIND_CHUNK = 16 };

/* The issues of up to EVENTS_WRITE_FIND_CHUNK hashes of one project in one
 * statement (on Postgres one round trip instead of n): ids[i] and status[i]
 * for hashes[i], ids[i] 0 when there is none. 1 <= n <= the chunk; hashes
 * may repeat. 0 or negative on error. */
int events_write_issue_find_chunk(struct db *db, int64_t project_id, const char *const *hashes,
                                  size_t n, int64_t *ids, enum issue_status *status);

/* One issue to create: its first event (title, culprit, level, message,
 * first/last seen from ev->timestamp_ms, times_seen 0: the counter flush
 * adds the events, store/counters.h) and, on return, its id. */
struct events_write_new_issue {
    const struct event_row *ev; /* (project, hash) distinct within a call */
    int64_t id;                 /* 0: another transaction created it first */
};

/* Creates n issues and their issue_hashes rows with two statements however
 * many they are (on SQLite the search index takes them in one write).
 * issues[i].id is 0 for an issue another transaction created first (look
 * it up). 0 or negative on error. */
int events_write_issues_create(struct db *db, struct events_write_new_issue *issues, size_t n);

/* events_write_issues_create for one: 0 with *id; -EEXIST when another
 * transaction created it first; other negative on error. */
int events_write_issue_create(struct db *db, const struct event_row *ev, int64_t *id);

/* Removes an issue created in this transaction that ended up with no event
 * (its only event was a duplicate). */
int events_write_issue_delete(struct db *db, int64_t id);

/* Inserts ev under issue_id unless (project, event_id) is stored already.
 * 1 inserted, 0 duplicate, negative on error. */
int events_write_event_insert(struct db *db, const struct event_row *ev, int64_t issue_id);

/* Events per multi-row insert. */
enum { EVENTS_WRITE_CHUNK = 16 };

/* Inserts EVENTS_WRITE_CHUNK events at once (evs[i] under issue_ids[i]);
 * inserted[i] tells which were stored (false: a duplicate, of a stored
 * event or of an earlier one in the chunk). 0 or negative on error. */
int events_write_event_insert_chunk(struct db *db, const struct event_row *evs,
                                    const int64_t *issue_ids, bool *inserted);

/* resolved → unresolved. 1 when this call reopened it (raise the
 * regression alert), 0 when it was not resolved (anymore), negative on
 * error. */
int events_write_issue_reopen(struct db *db, int64_t id);

/* Inserts an alert of kind ("new" | "regression") and one pending delivery
 * per enabled destination of the project (next attempt: now_ms). 0 with
 * *alert_id, negative on error. */
int events_write_alert(struct db *db, int64_t project_id, int64_t issue_id, const char *kind,
                       const uint8_t event_id[16], int64_t now_ms, int64_t *alert_id);

#endif
