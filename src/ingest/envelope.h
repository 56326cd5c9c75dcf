/* envelope — parser for Sentry envelopes (docs/architecture.md §2), no I/O.
 *
 * Grammar: a header line (a JSON object, `{}` is valid), then items: an item
 * header line (a JSON object with "type" and optional "length"), then the
 * payload: exactly `length` bytes when given (past the end of the buffer is
 * an error), otherwise up to the next newline. The final newline is
 * optional; blank lines between items are skipped.
 *
 * Zero-copy: items point into the caller's buffer, which must outlive the
 * struct envelope. The parsed envelope header (cJSON) is owned by the
 * envelope; envelope_free releases it. Any thread; no shared state. */
#ifndef PERISCOPE_ENVELOPE_H
#define PERISCOPE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Bounds the item array whatever the body holds. */
#define ENVELOPE_MAX_ITEMS 10000

enum envelope_item_type {
    ENVELOPE_ITEM_EVENT,
    ENVELOPE_ITEM_TRANSACTION,
    ENVELOPE_ITEM_SESSION,
    ENVELOPE_ITEM_SESSIONS,
    ENVELOPE_ITEM_ATTACHMENT,
    ENVELOPE_ITEM_CLIENT_REPORT,
    ENVELOPE_ITEM_USER_REPORT,
    ENVELOPE_ITEM_FEEDBACK,
    ENVELOPE_ITEM_CHECK_IN,
    ENVELOPE_ITEM_OTHER, /* any type this server does not know: accepted, counted */
    ENVELOPE_ITEM_TYPE_COUNT
};

struct envelope_item {
    enum envelope_item_type type;
    const char *header; /* the item header line (borrowed, not NUL-terminated) */
    size_t header_len;
    const char *payload; /* borrowed from the buffer, not NUL-terminated */
    size_t payload_len;
};

struct envelope {
    cJSON *header;     /* owned: the envelope header object */
    bool has_event_id; /* header carried a valid event_id */
    uint8_t event_id[16];
    const char *dsn;             /* header "dsn" (borrowed from header), or NULL */
    struct envelope_item *items; /* owned array */
    size_t nitems;
    size_t counts[ENVELOPE_ITEM_TYPE_COUNT];
};

/* Parses buf[0..len). Returns 0, -EBADMSG (malformed; *why says what, a
 * static string), or -ENOMEM. On error *env holds nothing to free. */
int envelope_parse(const char *buf, size_t len, struct envelope *env, const char **why);

void envelope_free(struct envelope *env);

/* The "dsn" of an envelope header line (line[0..len), the newline left
 * out), copied NUL-terminated into dsn: 0, -ENOENT when the header has no
 * dsn string (or a longer one than dsn_size - 1), -EBADMSG when the line
 * is not a JSON object. Ingest reads it before the rest of the body. */
int envelope_header_dsn(const char *line, size_t len, char *dsn, size_t dsn_size);

/* Metric label of an item type: "event", "transaction", …, "other". */
const char *envelope_item_type_name(enum envelope_item_type t);

#endif
