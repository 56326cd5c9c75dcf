/* ack — the link between an HTTP request waiting for its events to commit
 * (ACK_MODE=commit) and the writer that commits them.
 *
 * Ingest creates one ack per request with the number of events it publishes
 * and a resume callback; the writer (or whoever drops an event: filter,
 * shutdown, a failed commit) calls ack_event_done once per event. After the
 * last call the callback runs exactly once, on the calling thread, with the
 * worst status seen, and the ack frees itself. Thread-safe: live acks sit
 * in one mutex-guarded registry (a lock at creation and at the end). */
#ifndef PERISCOPE_ACK_H
#define PERISCOPE_ACK_H

/* status: 0 committed (or deliberately dropped: filtered, duplicate),
 * negative errno-style when the event could not be stored (-EIO commit
 * failed, -ESHUTDOWN server stopping). */
typedef void (*ack_resume_fn)(void *ctx, int status);

struct ack;

/* expected >= 1. NULL on allocation failure. */
struct ack *ack_new(int expected, ack_resume_fn fn, void *ctx);

/* Marks one event done. The last call runs fn(ctx, worst) and frees. */
void ack_event_done(struct ack *a, int status);

/* A stopping server that cannot wait any longer for threads holding
 * events (bounded SIGTERM): every ack still waiting runs fn(ctx, status)
 * now, on the calling thread. Those acks are left allocated, so a thread
 * that wakes up later and marks its events done touches valid memory and
 * calls nothing. Returns how many were answered. */
int ack_abandon_all(int status);

#endif
