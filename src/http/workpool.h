/* workpool — request work off the HTTP threads. An access handler that
 * has work to do beyond reading and answering (the admin API, the
 * web interface's API calls, script validation and dry runs, password
 * hashing) hands the request to a pool: its connection is suspended, one
 * of the pool's threads runs the work, and the connection is resumed for
 * the HTTP thread to send the answer. The HTTP threads so stay free for
 * ingest and the probes whatever the admin side does (docs/architecture.md
 * §7, §8).
 *
 * Internal to src/http/. http_pool_submit runs on an MHD thread; the work
 * runs on one of the pool's threads, or (busy, stopping) on the caller's. */
#ifndef PERISCOPE_HTTP_WORKPOOL_H
#define PERISCOPE_HTTP_WORKPOOL_H

#include <stdatomic.h>
#include <stddef.h>

struct MHD_Connection;
struct http_pool;
struct http_work;

enum http_work_how {
    HTTP_WORK_RUN = 0,  /* on a pool thread: do the work */
    HTTP_WORK_BUSY,     /* the queue is full: answer 503 without doing it */
    HTTP_WORK_STOPPING, /* the pool stops: answer 503 without doing it */
};

enum http_work_state { HTTP_WORK_IDLE = 0, HTTP_WORK_QUEUED, HTTP_WORK_DONE };

/* Called exactly once per submit; it leaves the answer where the
 * handler will find it when MHD calls it again. */
typedef void (*http_work_fn)(struct http_work *w, enum http_work_how how);

/* Embedded in the handler's per-request state. */
struct http_work {
    struct MHD_Connection *conn;
    http_work_fn fn;
    atomic_int state;       /* enum http_work_state */
    struct http_work *next; /* the pool's queue */
};

/* Starts nthreads threads named name (at most 15 characters) with room
 * for queue_max waiting requests. 0, -ENOMEM or -EAGAIN. */
int http_pool_start(struct http_pool **out, const char *name, int nthreads, size_t queue_max);

/* Suspends w->conn and queues w (state QUEUED); a pool thread runs
 * w->fn(w, HTTP_WORK_RUN), sets DONE and resumes the connection. With the
 * queue full or the pool stopping, w->fn runs at once on the caller's
 * thread with BUSY or STOPPING, and the connection is resumed just the
 * same. The handler answers once it sees DONE (and sets IDLE). */
void http_pool_submit(struct http_pool *p, struct http_work *w);

/* Requests still queued get STOPPING; waits for the ones running (they end
 * within their own deadlines); frees p. NULL is a no-op. */
void http_pool_stop(struct http_pool *p);

#endif
