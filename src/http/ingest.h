/* ingest — the Sentry ingestion endpoints: POST /api/<id>/envelope/ and
 * /api/<id>/store/ (trailing slash optional) and their CORS preflight.
 *
 * Runs on libmicrohttpd's threads: auth, size caps, streamed decompression,
 * envelope/store parsing, JSON validation, per-project quota, then publish
 * on hc->events. In ACK_MODE=commit the connection is suspended until the
 * writer acks (ack.h); in queue mode it answers on publish. */
#ifndef PERISCOPE_HTTP_INGEST_H
#define PERISCOPE_HTTP_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>

struct http_ctx;
struct ingest;

/* hc (borrowed, outlives the ingest): cfg, store, events, ingest_memory.
 * Gives hc->events its byte budget (topic_limit_bytes: the raw bytes of
 * the events queued, INGEST_QUEUE_MAX_BYTES). */
int ingest_new(const struct http_ctx *hc, struct ingest **out);
void ingest_free(struct ingest *in);

/* Forgets every cached key resolution: after a key was revoked, a project
 * deleted or its quota changed (here, or on another node), the next
 * request of each key asks the database. Any thread. */
void ingest_forget_keys(struct ingest *in);

/* True when url (path without query) is an ingest route. */
bool ingest_matches(const char *url);

/* The MHD access-handler step for an ingest route (same arguments and
 * semantics as MHD_AccessHandlerCallback). *req_cls is ingest's own. */
enum MHD_Result ingest_handle(struct ingest *in, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *upload_data, size_t *upload_data_size,
                              void **req_cls);

/* MHD's request-completed callback for a request ingest_handle owned. */
void ingest_request_done(struct ingest *in, void *req_cls);

#endif
