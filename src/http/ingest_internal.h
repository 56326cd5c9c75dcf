/* ingest internals shared by src/http/ingest*.c: body → events, and the
 * answers (JSON, CORS, Sentry error headers). Not for other modules. */
#ifndef PERISCOPE_HTTP_INGEST_INTERNAL_H
#define PERISCOPE_HTTP_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include "auth.h"

struct config;
struct ingest_event;

/* Why a request is refused: the HTTP status, the text for {"detail"} and
 * X-Sentry-Error, and the metrics reason label. status 0: no error. */
struct ingest_refusal {
    unsigned status;
    const char *detail; /* static */
    const char *reason; /* static */
    int retry_after_s;  /* 429/503: Retry-After; 0: none */
};

/* The events one request carries, parsed and validated, not yet published. */
struct ingest_batch {
    struct ingest_event **events; /* owned until published */
    size_t n;
    uint8_t answer_id[16];        /* the id the 200 answer names */
    bool has_dsn_key;
    char dsn_key[AUTH_KEY_MAX + 1]; /* the envelope header's dsn key */
};

enum ingest_route { INGEST_ROUTE_ENVELOPE, INGEST_ROUTE_STORE };

/* Parses a decoded body (borrowed; envelope items point into it while this
 * runs, events are deep copies) into batch. 0, or -1 with *why filled. Also
 * counts envelope item types. */
int ingest_body_parse(const struct config *cfg, enum ingest_route route, const char *body,
                      size_t len, int64_t project_id, int64_t received_at_ms,
                      struct ingest_batch *batch, struct ingest_refusal *why);

/* Frees the events still owned by the batch and empties it. */
void ingest_batch_clear(struct ingest_batch *batch);

/* Answers. Every answer carries the CORS headers; errors carry
 * X-Sentry-Error and {"detail"}, 429 adds X-Sentry-Rate-Limits. */
enum MHD_Result ingest_reply_id(struct MHD_Connection *conn, const struct config *cfg,
                                const char *route, const uint8_t id[16]);
enum MHD_Result ingest_reply_refusal(struct MHD_Connection *conn, const struct config *cfg,
                                     const char *route, const struct ingest_refusal *why);
enum MHD_Result ingest_reply_preflight(struct MHD_Connection *conn, const struct config *cfg);

/* Refusal helpers. */
void ingest_refuse(struct ingest_refusal *why, unsigned status, const char *reason,
                   const char *detail);

#endif
