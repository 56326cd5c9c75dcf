/* pipeline — the worker threads (normalize → project filter → grouping →
 * hash → compress) and the writer thread (batched transactions, issue
 * upsert, idempotent event insert, alerts + outbox, then acks).
 *
 * Consumes srv->events (struct ingest_event*), publishes on srv->alerts
 * (struct alert_msg*). Started after the store and scripts, stopped before
 * them: pipeline_stop drains both stages, commits, answers every waiting
 * request, and joins its threads. */
#ifndef PERISCOPE_PIPELINE_H
#define PERISCOPE_PIPELINE_H

struct server;
struct pipeline;

int pipeline_start(struct server *srv, struct pipeline **out);
void pipeline_stop(struct pipeline *p);

#endif
