/* db_postgres_wait — every wait on a Postgres server is bounded here: the
 * connection is made with PQconnectStartParams/PQconnectPoll and queries
 * are sent with PQsend* on a non-blocking connection, each followed by a
 * poll() with the connection's deadline (DB_TIMEOUT_MS plus a grace, so a
 * live server's statement_timeout answers first). A server that does not
 * answer in time (hung, stopped, partitioned: it cannot be cancelled
 * reliably) has the connection dropped; the next use reconnects, at most
 * once a second, failing fast in between. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/db_postgres_internal.h"
#include "base/clock.h"

/* Past the server's own statement_timeout: the client gives up. */
#define PG_CLIENT_GRACE_MS 1000
#define PG_RECONNECT_INTERVAL_MS 1000

/* Waits for events on the connection's socket until deadline (0: none).
 * 1 ready, 0 timed out, negative errno. */
static int wait_socket(PGconn *conn, short events, int64_t deadline)
{
    for (;;) {
        int left = -1;
        if (deadline) {
            int64_t d = deadline - clock_mono_ms();
            if (d <= 0) return 0;
            left = d > 60000 ? 60000 : (int)d;
        }
        struct pollfd pfd = {.fd = PQsocket(conn), .events = events};
        if (pfd.fd < 0) return -EBADF;
        int r = poll(&pfd, 1, left);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -errno;
        if (r == 0 && deadline && clock_mono_ms() >= deadline) return 0;
    }
}

static int64_t deadline_of(const struct pg_db *db)
{
    return db->timeout_ms > 0 ? clock_mono_ms() + db->timeout_ms + PG_CLIENT_GRACE_MS : 0;
}

void pg_drop(struct pg_db *db, const char *why)
{
    db_seterr(&db->base, "%s", why);
    PQfinish(db->conn);
    db->conn = NULL;
    db->timed_out = true;
}

int pg_connect(struct pg_db *db, const char *const *keys, const char *const *vals, int timeout_ms)
{
    int64_t now = clock_mono_ms();
    if (!db->conn && db->retry_at_ms && now < db->retry_at_ms) {
        /* db->base.err still says why the last attempt failed */
        return -ECONNREFUSED;
    }
    PQfinish(db->conn);
    db->conn = PQconnectStartParams(keys, vals, 0);
    int64_t deadline = now + timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (db->conn && PQstatus(db->conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        int r = wait_socket(db->conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (r <= 0) {
            db_seterr(&db->base, "postgres connect: no answer within %d ms", timeout_ms);
            goto fail;
        }
        st = PQconnectPoll(db->conn);
    }
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        pg_seterr(&db->base,
                  "postgres connect: ", db->conn ? PQerrorMessage(db->conn) : "out of memory");
        goto fail;
    }
    if (PQsetnonblocking(db->conn, 1) != 0) {
        pg_seterr(&db->base, "postgres connect: ", PQerrorMessage(db->conn));
        goto fail;
    }
    db->retry_at_ms = 0;
    db->timed_out = false;
    return 0;
fail:
    PQfinish(db->conn);
    db->conn = NULL;
    db->retry_at_ms = clock_mono_ms() + PG_RECONNECT_INTERVAL_MS;
    return -ECONNREFUSED;
}

/* Sends what PQsend* queued, within deadline. 0 or -ETIMEDOUT/-EIO. */
static int flush(struct pg_db *db, int64_t deadline)
{
    for (;;) {
        int f = PQflush(db->conn);
        if (f == 0) return 0;
        if (f < 0) return -EIO;
        int r = wait_socket(db->conn, POLLOUT | POLLIN, deadline);
        if (r == 0) return -ETIMEDOUT;
        if (r < 0) return r;
        if (!PQconsumeInput(db->conn)) return -EIO;
    }
}

PGresult *pg_result_of_send(struct pg_db *db, int sent)
{
    if (!sent) return NULL; /* PQerrorMessage says why */
    int64_t deadline = deadline_of(db);
    int rc = flush(db, deadline);
    PGresult *keep = NULL;
    while (rc == 0) {
        while (PQisBusy(db->conn)) {
            int r = wait_socket(db->conn, POLLIN, deadline);
            if (r == 0) rc = -ETIMEDOUT;
            if (r <= 0 || !PQconsumeInput(db->conn)) break;
        }
        if (rc < 0) break;
        PGresult *res = PQgetResult(db->conn);
        if (!res) break;
        /* Several statements: the first failure wins, else the last result. */
        if (keep && !pg_result_ok(keep))
            PQclear(res);
        else {
            PQclear(keep);
            keep = res;
        }
        if (PQstatus(db->conn) == CONNECTION_BAD) break;
    }
    if (rc == -ETIMEDOUT) {
        char why[128];
        snprintf(why, sizeof why, "postgres did not answer within %d ms; connection dropped",
                 db->timeout_ms + PG_CLIENT_GRACE_MS);
        PQclear(keep);
        pg_drop(db, why);
        return NULL;
    }
    return keep;
}
