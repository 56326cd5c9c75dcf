/* store — the database behind the server: connections, migrations, and the
 * one place SQL lives (the .c files in src/store/, each area in its own file with its own
 * header: projects.h, issues.h, events_read.h, events_write.h, deliveries.h,
 * destinations.h, scripts.h …). Area functions take a struct db* that the
 * caller holds; this header includes db.h, so a caller holding a connection
 * can use the db API's transaction and error calls with it.
 *
 * Connections: store_writer() is the single writer connection (SQLite: the
 * only connection that writes events; used by the writer thread only).
 * store_acquire()/store_release() lend a connection from a small pool to
 * any other thread (admin API, notifier, retention) for one short task. */
#ifndef PERISCOPE_STORE_H
#define PERISCOPE_STORE_H

#include <stddef.h>
#include "store/db.h"

struct config;
struct store;

/* Connections lent by store_acquire (besides the writer). */
#define STORE_POOL_SIZE 4

/* Opens the pool and the writer connection, applies migrations. Returns 0 or
 * negative with a message in err. */
int store_open(const struct config *cfg, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

/* `periscope check`: one connection, the full check of check.h, no
 * migration. 0 when whole, else negative with the first problem in msg. */
int store_check_database(const struct config *cfg, char *msg, size_t msglen);

/* For a throwaway database being filled by a bench seeder only: the
 * writer connection gives up durability for speed (SQLite: no sync, no
 * foreign key checks, a 192 MB page cache; Postgres: asynchronous commit).
 * A power loss meanwhile may leave the file corrupt. 0 or negative. */
int store_bulk_load(struct store *st);

/* The writer thread's connection (borrowed for the store's lifetime). */
struct db *store_writer(struct store *st);

/* Borrow a pooled connection; blocks while all are lent. Always release:
 * release rolls back a transaction left open and resets the connection's
 * statements. */
struct db *store_acquire(struct store *st);
void store_release(struct store *st, struct db *db);
/* The same, waiting at most wait_ms for a connection: NULL when none came
 * back in time (every statement being bounded, a long wait means the
 * database is slow or away). */
struct db *store_acquire_timed(struct store *st, int wait_ms);

/* Migrations directory for cfg's backend: cfg->migrations_dir/<kind>
 * (sqlite or postgres). Borrowed thread-local buffer. */
const char *store_migrations_dir(const struct config *cfg);

/* Readiness: borrows a pooled connection and runs SELECT 1. 0 when the
 * database answered, else negative. Any thread. */
int store_ping(struct store *st);

/* A list left out a row it could not render (out of memory): logs one
 * warning line naming it, so a list answers without it instead of
 * failing whole. */
void store_row_skipped(const char *what, long long id);

#endif
