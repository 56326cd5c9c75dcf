/* event — one error event on its way from ingest to the database, in the
 * two forms the stages hand each other.
 *
 * struct raw_event is what ingest hands a worker (topic "events"): the
 * project, the id, the receive time, the cJSON tree and the bytes as
 * received, the ack and the memory budget they were charged to. A worker
 * normalizes, scrubs and groups it and turns it into a struct
 * grouped_event, what a worker hands the writer (topic "grouped"): plain
 * values for the columns (hash, title, culprit, level …), the compressed
 * payload, the tags, the ack. cJSON ends at the worker: nothing after it
 * sees a tree of the event. Ownership moves with the pointer; the tree is
 * never copied between threads.
 *
 * What is stored is the event JSON exactly as received (raw), zstd
 * compressed; readers normalize it again with the row's event_id and
 * received_at (event_stored.h), which yields the same JSON the worker's
 * normalized tree prints to — so no worker prints the tree. Except when
 * scrubbing (scrub.h) changed the tree: then the raw bytes are dropped and
 * the printed, scrubbed normalized tree is stored instead. */
#ifndef PERISCOPE_EVENT_H
#define PERISCOPE_EVENT_H

#include <stdint.h>
#include <cjson/cJSON.h>

struct ack;
struct membudget;

/* What made an event's grouping hash: the built-in grouping (the Lua
 * default, or its memo), the project script's fingerprint(), or the C
 * fallback when even the default grouping failed. */
enum event_grouping {
    EVENT_GROUPED_BY_DEFAULT = 0,
    EVENT_GROUPED_BY_SCRIPT,
    EVENT_GROUPED_BY_FALLBACK,
};

/* HTTP → worker. */
struct raw_event {
    int64_t project_id;
    uint8_t event_id[16];   /* binary; from the envelope header, the item, or generated */
    int64_t received_at_ms; /* receive time, ms since the epoch */
    cJSON *json;            /* owned: the event object as sent (normalized by the worker) */
    char *raw;              /* owned, may be NULL: the event JSON bytes as received (the
                             * item's bytes); the worker stores these, compressed, unless
                             * scrubbing changed the event (then it frees them) */
    size_t raw_len;
    struct ack *ack;          /* NULL in ACK_MODE=queue; else the request waiting for commit */
    struct membudget *budget; /* borrowed, may be NULL: what budget_bytes were taken from */
    size_t budget_bytes;      /* the tree and raw copy's share of the ingest memory budget,
                               * given back once they are freed (raw_event_release) */
};

/* Worker → writer: what the store's rows are made of. */
struct grouped_event {
    int64_t project_id;
    uint8_t event_id[16];
    int64_t received_at_ms;
    struct ack *ack;      /* moved from the raw event; NULL in ACK_MODE=queue */
    char hash[33];        /* MD5 hex of the grouping components */
    char prev_hash[33];   /* during a grouping transition, the hash the project's previous
                           * grouping gives ("" when none or the same): the writer attaches
                           * hash to that hash's issue instead of making a new one */
    char *message;        /* may be NULL: the log message or exception value, whole (issue
                           * search reads it; event_message.h) */
    char *title;          /* "Type: value" or the message */
    char *culprit;        /* top in-app frame, may be "" */
    const char *level;    /* static string: fatal|error|warning|info|debug */
    char *environment;    /* may be NULL */
    char *release;        /* may be NULL */
    int64_t timestamp_ms; /* the event's own time (receive time when absent) */
    void *payload;        /* raw (else the printed normalized tree), zstd level 1 */
    size_t payload_len;
    struct event_tags *tags;      /* owned (free()): the tag pairs issue_tags counts; may be NULL */
    int filtered;                 /* 1: the project's filter() dropped it; not stored */
    enum event_grouping grouping; /* what made the hash (for the debug log) */
};

/* Zeroed events; NULL on allocation failure. */
struct raw_event *raw_event_new(void);
struct grouped_event *grouped_event_new(void);

/* Frees the event and everything it owns (not the ack), and gives back
 * its share of the memory budget. NULL is fine. */
void raw_event_free(struct raw_event *ev);
/* Frees the tree and the raw bytes and gives their budget back; the rest
 * (project, id, ack) stays. Idempotent. */
void raw_event_release(struct raw_event *ev);
/* The bytes a raw event counts against the "events" topic's byte budget
 * (its raw bytes; topic_size_fn). */
size_t raw_event_queued_bytes(const void *ev);

/* Frees the event and everything it owns (not the ack). NULL is fine. */
void grouped_event_free(struct grouped_event *ev);
/* The values a worker fills before grouping: the project, id and receive
 * time and the ack, moved from raw (raw->ack becomes NULL). */
void grouped_event_from_raw(struct grouped_event *ev, struct raw_event *raw);

/* "default", "script" or "fallback"; static. */
const char *event_grouping_name(enum event_grouping g);

/* Hex form of a 16-byte id into out[33]. */
void event_id_hex(const uint8_t id[16], char out[33]);
/* Parses 32 hex digits, dashes allowed (UUID form). Returns 0 or -EINVAL. */
int event_id_parse(const char *s, size_t len, uint8_t out[16]);
/* A random version-4 id. */
void event_id_generate(uint8_t out[16]);

#endif
