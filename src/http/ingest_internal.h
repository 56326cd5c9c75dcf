/* ingest internals shared by src/http/ingest*.c: body → events, and the
 * answers (JSON, CORS, Sentry error headers). Not for other modules. */
#ifndef PERISCOPE_HTTP_INGEST_INTERNAL_H
#define PERISCOPE_HTTP_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include "ingest/envelope.h"

struct config;
struct raw_event;
struct membudget;

enum ingest_route { INGEST_ROUTE_ENVELOPE, INGEST_ROUTE_STORE };

/* Why a request is refused: the HTTP status, the text for {"detail"} and
 * X-Sentry-Error, and the metrics reason label. status 0: no error. */
struct ingest_refusal {
    unsigned status;
    const char *detail; /* static */
    const char *reason; /* static */
    int retry_after_s;  /* 429/503: Retry-After; 0: none */
};

/* The event items of a decoded body, framed but none parsed yet: the
 * quota is charged for nevents before any event JSON is parsed. */
struct ingest_items {
    enum ingest_route route;
    struct envelope env;    /* envelope route: header and item array (owned) */
    const char *store_json; /* store route: the event JSON (borrowed from the body, or raven) */
    size_t store_len;
    char *raven;              /* store route, legacy form: the decoded JSON (owned) */
    size_t raven_budget;      /* what raven holds of the budget */
    struct membudget *budget; /* borrowed, may be NULL (no accounting) */
    size_t nevents;
};

/* The events one request carries, parsed and validated, not yet published. */
struct ingest_batch {
    struct raw_event **events; /* owned until published */
    size_t n;
    uint8_t answer_id[16]; /* the id the 200 answer names */
};

/* Frames a decoded body (borrowed; it must outlive items): the envelope's
 * items, or the store body (a legacy base64+deflate body is decoded,
 * within the budget). Counts envelope item types. 0, or -1 with *why
 * filled. */
int ingest_body_frame(const struct config *cfg, enum ingest_route route, const char *body,
                      size_t len, struct membudget *budget, struct ingest_items *items,
                      struct ingest_refusal *why);

/* Parses the framed events into batch. Each event's bytes are made valid
 * UTF-8 (U+FFFD for what is not), measured, and what its tree and raw copy
 * will take is taken from items->budget before it is parsed; the event
 * carries that share until the worker frees it. *held: the bytes the
 * request holds of the budget, grown by each event; a share that cannot
 * be taken is 413 when the request alone would pass the limit, else 503.
 * 0, or -1 with *why filled and the batch emptied. */
int ingest_body_events(const struct config *cfg, const struct ingest_items *items,
                       int64_t project_id, int64_t received_at_ms, size_t *held,
                       struct ingest_batch *batch, struct ingest_refusal *why);

/* Frees what items owns and gives its budget back. */
void ingest_items_free(struct ingest_items *items);

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
/* The memory budget could not give `want` more bytes to a request that
 * holds `held` already: 413 when the two alone pass the limit (the request
 * can never fit), else 503 with Retry-After. */
void ingest_refuse_memory(struct ingest_refusal *why, const struct membudget *budget, size_t held,
                          size_t want);

#endif
