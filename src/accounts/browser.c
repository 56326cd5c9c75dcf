/* browser — session cookie and same-origin check (contract in browser.h). */
#include "accounts/browser.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool browser_is_https(const char *public_url)
{
    return public_url && strncasecmp(public_url, "https://", 8) == 0;
}

void browser_session_cookie(char out[SESSION_COOKIE_MAX], const char *id, long max_age_s,
                            bool secure)
{
    snprintf(out, SESSION_COOKIE_MAX, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
             SESSION_COOKIE, id ? id : "", id ? max_age_s : 0L, secure ? "; Secure" : "");
}

bool browser_origin_of(const char *url, char *out, size_t outlen)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep) return false;
    size_t slen = (size_t)(sep - url);
    const char *host = sep + 3;
    size_t hlen = strcspn(host, "/?#");
    if (slen == 0 || hlen == 0 || slen + 3 + hlen + 1 > outlen) return false;
    bool https = slen == 5 && strncasecmp(url, "https", 5) == 0;
    bool http = slen == 4 && strncasecmp(url, "http", 4) == 0;
    if (!https && !http) return false;
    /* The default port is not part of a browser's Origin. */
    if ((https && hlen > 4 && strncmp(host + hlen - 4, ":443", 4) == 0) ||
        (http && hlen > 3 && strncmp(host + hlen - 3, ":80", 3) == 0))
        hlen -= https ? 4 : 3;
    size_t n = 0;
    for (size_t i = 0; i < slen; i++)
        out[n++] = (char)tolower((unsigned char)url[i]);
    memcpy(out + n, "://", 3);
    n += 3;
    for (size_t i = 0; i < hlen; i++)
        out[n++] = (char)tolower((unsigned char)host[i]);
    out[n] = '\0';
    return true;
}

/* An Origin header is an origin only: scheme and host, nothing after. */
static bool origin_only(const char *origin)
{
    const char *sep = strstr(origin, "://");
    return sep && strcspn(sep + 3, "/?#") == strlen(sep + 3);
}

bool browser_same_origin(const char *public_url, const char *origin, const char *referer)
{
    char want[512], got[512];
    if (!browser_origin_of(public_url, want, sizeof want)) return false;
    if (origin && *origin)
        return origin_only(origin) && browser_origin_of(origin, got, sizeof got) &&
               strcmp(got, want) == 0;
    return referer && browser_origin_of(referer, got, sizeof got) && strcmp(got, want) == 0;
}
