#include "notify/dest_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "base/error.h"
#include "notify/channel.h"
#include "notify/channel_email.h"
#include "notify/sign.h"
#include "notify/ssrf.h"

#define URL_MAX 2048
#define HEADERS_MAX 32

static bool is_masked(const cJSON *v)
{
    const char *s = json_str(v);
    return s && strstr(s, DEST_MASK) != NULL;
}

/* Checks a URL's scheme and host; a literal refused address is turned
 * away early (names are checked on connect). */
static int check_url(const char *url, const char *const *schemes, bool allow_private,
                     const char *code, struct error_detail *e)
{
    if (strlen(url) > URL_MAX)
        return error_detail_set(e, code, "URL longer than %d bytes", URL_MAX);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        rc = error_detail_set(e, code, "not an absolute URL with a host");
        goto done;
    }
    bool known = false;
    for (const char *const *s = schemes; *s; s++)
        known = known || strcasecmp(scheme, *s) == 0;
    if (!known) {
        rc = error_detail_set(e, code, "URL scheme must be %s%s%s", schemes[0],
                              schemes[1] ? " or " : "", schemes[1] ? schemes[1] : "");
        goto done;
    }
    char bare[256];
    size_t hl = strlen(host);
    snprintf(bare, sizeof bare, "%.*s", (int)(host[0] == '[' && hl > 2 ? hl - 2 : hl),
             host[0] == '[' ? host + 1 : host);
    const char *why = ssrf_refused_reason_text(bare);
    if (!allow_private && why && strcmp(why, "invalid") != 0)
        rc = error_detail_set(
            e, "destination_not_allowed",
            "the URL's address is %s; set ALLOW_PRIVATE_DESTINATIONS=true to allow it", why);
done:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* Copies body[name] into cfg when present (a string, or null to remove). */
static int take_string(cJSON *cfg, const cJSON *body, const char *name, bool required,
                       struct error_detail *e)
{
    cJSON *v = json_get(body, name);
    if (v && is_masked(v)) v = NULL; /* shown masked, sent back unchanged */
    if (v && cJSON_IsNull(v) && !required) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, name);
        return 0;
    }
    if (v && !cJSON_IsString(v))
        return error_detail_set(e, "invalid_field", "%s must be a string", name);
    if (v) json_set(cfg, name, json_dup(v));
    if (required && !cJSON_IsString(json_get(cfg, name)))
        return error_detail_set(e, "missing_field", "%s is required", name);
    return 0;
}

static int check_headers(cJSON *cfg, const cJSON *body, struct error_detail *e)
{
    cJSON *h = json_get(body, "webhook_headers");
    if (!h) return 0;
    if (cJSON_IsNull(h)) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "webhook_headers");
        return 0;
    }
    if (!cJSON_IsObject(h) || json_size(h) > HEADERS_MAX)
        return error_detail_set(e, "invalid_webhook_headers",
                                "webhook_headers must be an object of at most %d strings",
                                HEADERS_MAX);
    cJSON *old = json_get(cfg, "webhook_headers");
    cJSON *merged = cJSON_CreateObject();
    const char *name;
    cJSON *v;
    json_object_each(h, name, v)
    {
        if (is_masked(v)) {
            /* Shown masked, sent back: keep the stored value, if any is
             * left (a changed URL dropped them). */
            v = json_get(old, name);
            if (!cJSON_IsString(v)) continue;
        }
        if (!cJSON_IsString(v) || !channel_header_ok(name, json_str(v))) {
            cJSON_Delete(merged);
            return error_detail_set(e, "invalid_webhook_headers",
                                    "header '%s' is not a valid header line", name);
        }
        json_set(merged, name, json_dup(v));
    }
    json_set(cfg, "webhook_headers", merged);
    return 0;
}

/* The host of url, lower-cased, into out ("" when it has none). */
static void url_host(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *host = NULL;
    out[0] = '\0';
    if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        size_t i = 0;
        for (; host[i] && i + 1 < outlen; i++)
            out[i] = (char)tolower((unsigned char)host[i]);
        out[i] = '\0';
    }
    curl_free(host);
    curl_url_cleanup(u);
}

/* True when body sends a new value (not the masked one shown) for the
 * URL field that differs from the stored one; host_only: compare the
 * hosts only. */
static bool url_changes(const cJSON *cfg, const cJSON *body, const char *field, bool host_only)
{
    const char *was = json_str(json_get(cfg, field));
    cJSON *v = json_get(body, field);
    const char *now = json_str(v);
    if (!was || !now || is_masked(v)) return false;
    if (!host_only) return strcmp(was, now) != 0;
    char a[256], b[256];
    url_host(was, a, sizeof a);
    url_host(now, b, sizeof b);
    return strcmp(a, b) != 0;
}

/* A destination's secrets were given for its receiver: when the address
 * changes they stay behind, unless the same request sends them again. */
static void drop_secrets(cJSON *cfg, const char *const *names)
{
    for (const char *const *n = names; *n; n++)
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, *n);
}

static int build_webhook(enum channel_type t, cJSON *cfg, const cJSON *body, bool allow_private,
                         struct error_detail *e)
{
    static const char *const HTTP[] = {"https", "http", NULL};
    static const char *const SECRETS[] = {"webhook_headers", "secret", NULL};
    if (url_changes(cfg, body, "webhook_url", false)) drop_secrets(cfg, SECRETS);
    int rc = take_string(cfg, body, "webhook_url", true, e);
    if (rc == 0)
        rc = check_url(json_str(json_get(cfg, "webhook_url")), HTTP, allow_private,
                       "invalid_webhook_url", e);
    if (rc == 0) rc = check_headers(cfg, body, e);
    if (rc == 0) rc = take_string(cfg, body, "secret", false, e);
    const char *secret = json_str(json_get(cfg, "secret"));
    if (rc == 0 && secret && t != CHANNEL_GENERIC_WEBHOOK)
        cJSON_DeleteItemFromObjectCaseSensitive(cfg,
                                                "secret"); /* only generic webhooks are signed */
    else if (rc == 0 && secret) {
        char sig[SIGN_HEADER_MAX];
        if (sign_webhook(secret, "check", 0, "", 0, sig) < 0)
            rc = error_detail_set(e, "invalid_secret",
                                  "secret must be non-empty; whsec_ secrets must be base64");
    }
    return rc;
}

static int build_email(cJSON *cfg, const cJSON *body, bool allow_private, struct error_detail *e)
{
    static const char *const SMTP[] = {"smtp", "smtps", NULL};
    static const char *const SECRETS[] = {"password", NULL};
    if (url_changes(cfg, body, "smtp_url", true)) drop_secrets(cfg, SECRETS);
    int rc = take_string(cfg, body, "smtp_url", true, e);
    if (rc == 0)
        rc = check_url(json_str(json_get(cfg, "smtp_url")), SMTP, allow_private, "invalid_smtp_url",
                       e);
    if (rc == 0) rc = take_string(cfg, body, "username", false, e);
    if (rc == 0) rc = take_string(cfg, body, "password", false, e);
    if (rc == 0) rc = take_string(cfg, body, "from", true, e);
    if (rc == 0 && !channel_email_address_ok(json_str(json_get(cfg, "from"))))
        rc = error_detail_set(e, "invalid_from", "from must be one email address");
    cJSON *to = json_get(body, "to");
    if (rc == 0 && to) {
        bool ok = cJSON_IsString(to) || (cJSON_IsArray(to) && json_size(to) > 0);
        size_t i;
        cJSON *a;
        if (cJSON_IsArray(to))
            json_array_each(to, i, a) ok = ok && channel_email_address_ok(json_str(a));
        if (cJSON_IsString(to)) {
            char *copy = strdup(json_str(to)), *save = NULL;
            int n = 0;
            for (char *p = copy ? strtok_r(copy, ", ", &save) : NULL; p;
                 p = strtok_r(NULL, ", ", &save), n++)
                ok = ok && channel_email_address_ok(p);
            ok = ok && n > 0;
            free(copy);
        }
        if (!ok)
            rc = error_detail_set(e, "invalid_to", "to must be an email address or a list of them");
        else
            json_set(cfg, "to", json_dup(to));
    }
    if (rc == 0 && !json_get(cfg, "to"))
        rc = error_detail_set(e, "missing_field", "to is required");
    cJSON *tls = json_get(body, "require_tls");
    if (rc == 0 && tls && !cJSON_IsBool(tls))
        rc = error_detail_set(e, "invalid_field", "require_tls must be a boolean");
    else if (rc == 0 && tls)
        json_set(cfg, "require_tls", json_dup(tls));
    return rc;
}

int dest_config_build(const char *type, const cJSON *body, const cJSON *existing,
                      bool allow_private, cJSON **out, struct error_detail *e)
{
    enum channel_type t = channel_type_parse(type);
    if (t == CHANNEL_UNKNOWN)
        return error_detail_set(e, "invalid_type",
                                "type must be internal_logger, generic_webhook, slack_webhook, "
                                "discord_webhook, teams_webhook or email");
    cJSON *cfg = existing ? json_dup(existing) : cJSON_CreateObject();
    if (!cfg) return error_detail_set(e, "internal", "out of memory");
    int rc = 0;
    if (channel_uses_webhook_url(t))
        rc = build_webhook(t, cfg, body, allow_private, e);
    else if (t == CHANNEL_EMAIL)
        rc = build_email(cfg, body, allow_private, e);
    if (rc < 0) {
        cJSON_Delete(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}
