/* notify/channel — one outbound notification request: the destination
 * types, and for each the libcurl easy handle that sends a formatted
 * message (webhook POST with custom headers and Standard Webhooks
 * signature; SMTP with a multipart text + HTML mail), guarded by ssrf.h.
 * internal_logger has no request: the notifier logs the body.
 *
 * A struct channel_xfer is owned by one thread at a time; it owns its easy
 * handle, headers, MIME parts and body until channel_xfer_cleanup. */
#ifndef PERISCOPE_NOTIFY_CHANNEL_H
#define PERISCOPE_NOTIFY_CHANNEL_H

#include <stdbool.h>
#include "base/json.h"
#include <curl/curl.h>
#include "lua/script_format.h"
#include "notify/ssrf.h"

enum channel_type {
    CHANNEL_UNKNOWN = 0,
    CHANNEL_INTERNAL_LOGGER,
    CHANNEL_GENERIC_WEBHOOK,
    CHANNEL_SLACK,
    CHANNEL_DISCORD,
    CHANNEL_TEAMS,
    CHANNEL_EMAIL,
};

enum channel_type channel_type_parse(const char *name);
/* The i-th destination type's name (0, 1, …), NULL past the last. */
const char *channel_type_name(size_t i);
bool channel_uses_webhook_url(enum channel_type t);

/* A custom header a destination may set: an RFC 7230 token name, a value
 * without CR or LF, and not one of Host, Content-Length,
 * Transfer-Encoding. */
bool channel_header_ok(const char *name, const char *value);

struct channel_opts {
    bool allow_private;      /* ALLOW_PRIVATE_DESTINATIONS */
    long connect_timeout_ms; /* NOTIFY_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* NOTIFY_TIMEOUT_MS */
};

struct config;
/* The options as cfg sets them. */
void channel_opts_init(struct channel_opts *o, const struct config *cfg);

#define CHANNEL_RESPONSE_KEEP 200

struct channel_xfer {
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    curl_mime *mime;
    struct script_message msg; /* owned: the body curl sends from */
    struct ssrf_guard guard;
    char errbuf[CURL_ERROR_SIZE];
    char response[CHANNEL_RESPONSE_KEEP + 1]; /* the start of the answer, for errors */
    size_t response_len;
    bool smtp;
};

/* Prepares x to send msg (ownership moves into x, msg is cleared) to the
 * destination dest ({"type", "config": {...}}). message_id identifies the
 * message across retries (webhook-id). Returns 0, or -EINVAL with the
 * reason in err when the destination cannot be sent to (bad URL, bad
 * address): retrying would not help. */
int channel_xfer_prepare(struct channel_xfer *x, const struct channel_opts *o, const cJSON *dest,
                         const char *message_id, long long now_ms, struct script_message *msg,
                         char *err, size_t errlen);
void channel_xfer_cleanup(struct channel_xfer *x);

struct channel_result {
    bool transport_ok;        /* an answer came back */
    bool permanent;           /* retrying cannot help (refused address, bad URL, 5xx SMTP) */
    long status;              /* HTTP status or SMTP reply code, 0 when none */
    long long retry_after_ms; /* -1 when absent */
    char error[320];          /* empty on success */
};

/* Interprets a finished transfer (rc from curl_easy_perform or the multi
 * message). */
void channel_xfer_result(struct channel_xfer *x, CURLcode rc, long long now_s,
                         struct channel_result *out);

#endif
