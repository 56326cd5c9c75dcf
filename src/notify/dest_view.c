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
        /* the cut falls between characters, not inside one */
        while (keep > 0 && keep < plen && ((unsigned char)path[keep] & 0xC0) == 0x80)
            keep--;
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

static cJSON *masked_or_null(const cJSON *v)
{
    const char *s = json_str(v);
    if (!s || !*s) return cJSON_CreateNull();
    if (strncmp(s, "whsec_", 6) == 0) return cJSON_CreateString("whsec_" DEST_MASK);
    return cJSON_CreateString(DEST_MASK);
}

static void set_text(cJSON *view, const char *name, char *owned)
{
    json_set(view, name, owned ? json_new_str(owned) : cJSON_CreateNull());
    free(owned);
}

cJSON *dest_config_view(const cJSON *row)
{
    const cJSON *cfg = json_get(row, "config");
    cJSON *view = json_build("{s:O, s:O, s:O, s:O, s:O}", "id", json_get(row, "id"), "type",
                             json_get(row, "type"), "name", json_get(row, "name"), "enabled",
                             json_get(row, "enabled"), "created_at", json_get(row, "created_at"));
    if (!view) return NULL;
    cJSON *why = json_get(row, "config_error");
    if (why) json_set(view, "config_error", json_dup(why));
    enum channel_type t = channel_type_parse(json_str(json_get(row, "type")));
    if (channel_uses_webhook_url(t)) {
        const char *url = json_str(json_get(cfg, "webhook_url"));
        set_text(view, "webhook_url", url ? dest_mask_url(url) : NULL);
        cJSON *headers = cJSON_CreateObject();
        const char *name;
        cJSON *v;
        json_object_each(json_get(cfg, "webhook_headers"), name, v)
        {
            (void)v;
            json_set(headers, name, cJSON_CreateString(DEST_MASK));
        }
        json_set(view, "webhook_headers", headers);
        if (t == CHANNEL_GENERIC_WEBHOOK)
            json_set(view, "secret", masked_or_null(json_get(cfg, "secret")));
    } else if (t == CHANNEL_EMAIL) {
        const char *url = json_str(json_get(cfg, "smtp_url"));
        set_text(view, "smtp_url", url ? strip_userinfo(url) : NULL);
        cJSON *user = json_get(cfg, "username");
        json_set(view, "username", user ? json_dup(user) : cJSON_CreateNull());
        json_set(view, "password", masked_or_null(json_get(cfg, "password")));
        cJSON *from = json_get(cfg, "from"), *to = json_get(cfg, "to");
        json_set(view, "from", from ? json_dup(from) : cJSON_CreateNull());
        json_set(view, "to", to ? json_dup(to) : cJSON_CreateNull());
        json_set(view, "require_tls", cJSON_CreateBool(cJSON_IsTrue(json_get(cfg, "require_tls"))));
    }
    return view;
}
