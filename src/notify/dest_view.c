/* The masked API view of a destination (dest_config.h). */
#include "notify/dest_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "notify/channel.h"

#define MASK_KEEP_AFTER_SEGMENT 2

char *dest_mask_url(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    char *out = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        out = strdup(DEST_MASK);
        goto done;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    size_t plen = path ? strlen(path) : 0;
    bool secretless = plen <= 1 && !query && !user;
    size_t keep = plen;
    if (!secretless) {
        const char *second = plen > 1 ? strchr(path + 1, '/') : NULL;
        keep = second ? (size_t)(second - path) + 1 + MASK_KEEP_AFTER_SEGMENT : 3;
        if (keep > plen) keep = plen;
    }
    size_t cap = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + keep + 32;
    out = malloc(cap);
    if (out)
        snprintf(out, cap, "%s://%s%s%s%.*s%s", scheme, host, port ? ":" : "", port ? port : "",
                 (int)keep, path ? path : "", secretless ? "" : DEST_MASK);
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return out;
}

/* smtp://user:pass@host:587 → smtp://host:587 */
static char *strip_userinfo(const char *url)
{
    CURLU *u = curl_url();
    char *text = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &text, 0) == CURLUE_OK)
        out = strdup(text);
    curl_free(text);
    curl_url_cleanup(u);
    return out ? out : strdup(DEST_MASK);
}

static json_t *masked_or_null(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s) return json_null();
    if (strncmp(s, "whsec_", 6) == 0) return json_string("whsec_" DEST_MASK);
    return json_string(DEST_MASK);
}

static void set_text(json_t *view, const char *name, char *owned)
{
    json_object_set_new(view, name, owned ? json_string(owned) : json_null());
    free(owned);
}

json_t *dest_config_view(const json_t *row)
{
    const json_t *cfg = json_object_get(row, "config");
    json_t *view = json_pack("{s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(row, "id"), "type",
                             json_object_get(row, "type"), "name", json_object_get(row, "name"),
                             "enabled", json_object_get(row, "enabled"), "created_at",
                             json_object_get(row, "created_at"));
    if (!view) return NULL;
    json_t *why = json_object_get(row, "config_error");
    if (why) json_object_set(view, "config_error", why);
    enum channel_type t = channel_type_parse(json_string_value(json_object_get(row, "type")));
    if (channel_uses_webhook_url(t)) {
        const char *url = json_string_value(json_object_get(cfg, "webhook_url"));
        set_text(view, "webhook_url", url ? dest_mask_url(url) : NULL);
        json_t *headers = json_object();
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(cfg, "webhook_headers"), name, v)
            json_object_set_new(headers, name, json_string(DEST_MASK));
        json_object_set_new(view, "webhook_headers", headers);
        if (t == CHANNEL_GENERIC_WEBHOOK)
            json_object_set_new(view, "secret", masked_or_null(json_object_get(cfg, "secret")));
    } else if (t == CHANNEL_EMAIL) {
        const char *url = json_string_value(json_object_get(cfg, "smtp_url"));
        set_text(view, "smtp_url", url ? strip_userinfo(url) : NULL);
        json_t *user = json_object_get(cfg, "username");
        json_object_set_new(view, "username", user ? json_incref(user) : json_null());
        json_object_set_new(view, "password", masked_or_null(json_object_get(cfg, "password")));
        json_t *from = json_object_get(cfg, "from"), *to = json_object_get(cfg, "to");
        json_object_set_new(view, "from", from ? json_incref(from) : json_null());
        json_object_set_new(view, "to", to ? json_incref(to) : json_null());
        json_object_set_new(view, "require_tls",
                            json_boolean(json_is_true(json_object_get(cfg, "require_tls"))));
    }
    return view;
}
