#include "notify/channel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/config.h"
#include "notify/channel_email.h"
#include "notify/retry.h"
#include "notify/sign.h"

/* The destination types: the one table (parsing, the webhook_url test,
 * the list the format checks and the dry run walk). */
static const struct {
    const char *name;
    enum channel_type type;
    bool webhook_url; /* configured by a webhook_url (else: logger, SMTP) */
} TYPES[] = {
    {"internal_logger", CHANNEL_INTERNAL_LOGGER, false},
    {"generic_webhook", CHANNEL_GENERIC_WEBHOOK, true},
    {"slack_webhook", CHANNEL_SLACK, true},
    {"discord_webhook", CHANNEL_DISCORD, true},
    {"teams_webhook", CHANNEL_TEAMS, true},
    {"email", CHANNEL_EMAIL, false},
};

enum channel_type channel_type_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcmp(name, TYPES[i].name) == 0) return TYPES[i].type;
    return CHANNEL_UNKNOWN;
}

const char *channel_type_name(size_t i)
{
    return i < sizeof TYPES / sizeof TYPES[0] ? TYPES[i].name : NULL;
}

bool channel_uses_webhook_url(enum channel_type t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == t) return TYPES[i].webhook_url;
    return false;
}

void channel_opts_init(struct channel_opts *o, const struct config *cfg)
{
    o->allow_private = cfg->allow_private_destinations;
    o->connect_timeout_ms = cfg->notify_connect_timeout_ms;
    o->timeout_ms = cfg->notify_timeout_ms;
}

static size_t keep_response(char *data, size_t size, size_t nmemb, void *userp)
{
    struct channel_xfer *x = userp;
    size_t n = size * nmemb;
    size_t room = CHANNEL_RESPONSE_KEEP - x->response_len;
    size_t take = n < room ? n : room;
    memcpy(x->response + x->response_len, data, take);
    x->response_len += take;
    x->response[x->response_len] = '\0';
    return n;
}

/* RFC 7230 token characters, and values without CR, LF or NUL: a header
 * from the destination's settings can never inject another one. */
bool channel_header_ok(const char *name, const char *value)
{
    if (!*name) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p)) return false;
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n') return false;
    return strcasecmp(name, "host") != 0 && strcasecmp(name, "content-length") != 0 &&
           strcasecmp(name, "transfer-encoding") != 0;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line) return -EINVAL;
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (!grown) return -ENOMEM;
    *list = grown;
    return 0;
}

static int webhook_prepare(struct channel_xfer *x, enum channel_type t, const cJSON *config,
                           const char *message_id, long long now_ms, char *err, size_t errlen)
{
    const char *url = json_str(json_get(config, "webhook_url"));
    if (!url || !*url) {
        snprintf(err, errlen, "destination has no webhook_url");
        return -EINVAL;
    }
    const char *ctype = x->msg.content_type ? x->msg.content_type : "application/json";
    if (add_header(&x->headers, "Content-Type", ctype) < 0 ||
        add_header(&x->headers, "Expect", "") < 0) /* no 100-continue round trip */
        goto oom;
    const char *name;
    cJSON *value;
    json_object_each(json_get(config, "webhook_headers"), name, value)
    {
        if (cJSON_IsString(value) && channel_header_ok(name, json_str(value)) &&
            add_header(&x->headers, name, json_str(value)) < 0)
            goto oom;
    }
    /* The deduplication key (at-least-once delivery), signed or not. */
    if (t == CHANNEL_GENERIC_WEBHOOK && add_header(&x->headers, "webhook-id", message_id) < 0)
        goto oom;
    const char *secret = json_str(json_get(config, "secret"));
    if (t == CHANNEL_GENERIC_WEBHOOK && secret && *secret) {
        char sig[SIGN_HEADER_MAX], ts[24];
        long long now_s = now_ms / 1000;
        if (sign_webhook(secret, message_id, now_s, x->msg.body, strlen(x->msg.body), sig) < 0) {
            snprintf(err, errlen, "destination secret is not usable for signing");
            return -EINVAL;
        }
        snprintf(ts, sizeof ts, "%lld", now_s);
        if (add_header(&x->headers, "webhook-timestamp", ts) < 0 ||
            add_header(&x->headers, "webhook-signature", sig) < 0)
            goto oom;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->msg.body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->msg.body));
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, keep_response);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int channel_xfer_prepare(struct channel_xfer *x, const struct channel_opts *o, const cJSON *dest,
                         const char *message_id, long long now_ms, struct script_message *msg,
                         char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->msg = *msg;
    memset(msg, 0, sizeof *msg);
    enum channel_type t = channel_type_parse(json_str(json_get(dest, "type")));
    const cJSON *config = json_get(dest, "config");
    x->smtp = t == CHANNEL_EMAIL;
    if (!channel_uses_webhook_url(t) && !x->smtp) {
        snprintf(err, errlen, "destination type has no outbound request");
        return -EINVAL;
    }
    if (!x->smtp && !x->msg.body) {
        snprintf(err, errlen, "message has no body");
        return -EINVAL;
    }
    x->easy = curl_easy_init();
    if (!x->easy) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    x->guard.allow_private = o->allow_private;
    if (ssrf_guard_attach(x->easy, &x->guard, x->smtp ? SSRF_SCHEMES_SMTP : SSRF_SCHEMES_HTTP) <
        0) {
        snprintf(err, errlen, "libcurl refused the SSRF guard");
        return -EINVAL;
    }
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "periscope/" PERISCOPE_VERSION);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    if (x->smtp) return channel_email_prepare(x, config, message_id, now_ms, err, errlen);
    return webhook_prepare(x, t, config, message_id, now_ms, err, errlen);
}

void channel_xfer_cleanup(struct channel_xfer *x)
{
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_mime_free(x->mime);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rcpt);
    script_message_clear(&x->msg);
    x->easy = NULL;
    x->mime = NULL;
    x->headers = x->rcpt = NULL;
}

/* Printable one-line copy of the start of the receiver's answer. */
static void response_excerpt(const struct channel_xfer *x, char *out, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < x->response_len && j + 1 < len; i++) {
        unsigned char c = (unsigned char)x->response[i];
        out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[j] = '\0';
}

void channel_xfer_result(struct channel_xfer *x, CURLcode rc, long long now_s,
                         struct channel_result *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &out->status);
    if (x->guard.refused && rc != CURLE_OK) {
        out->permanent = true;
        snprintf(out->error, sizeof out->error,
                 "destination address %s refused (%s); setting ALLOW_PRIVATE_DESTINATIONS to true "
                 "allows it",
                 x->guard.refused_addr, x->guard.refused_reason);
        return;
    }
    if (rc != CURLE_OK) {
        out->transport_ok = false;
        out->permanent = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
                         rc == CURLE_LOGIN_DENIED || (x->smtp && out->status >= 500);
        snprintf(out->error, sizeof out->error, "%s%s%s", curl_easy_strerror(rc),
                 x->errbuf[0] ? ": " : "", x->errbuf);
        return;
    }
    out->transport_ok = true;
    if (x->smtp) return; /* accepted for delivery; status is the last SMTP reply */
    struct curl_header *h;
    if (curl_easy_header(x->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        out->retry_after_ms = retry_after_parse_ms(h->value, now_s);
    if (out->status < 200 || out->status >= 300) {
        char excerpt[CHANNEL_RESPONSE_KEEP + 1];
        response_excerpt(x, excerpt, sizeof excerpt);
        snprintf(out->error, sizeof out->error, "HTTP %ld%s%s", out->status, excerpt[0] ? ": " : "",
                 excerpt);
    }
}
