/* auth — key parsers for headers, query and DSN (auth.h). Untrusted input;
 * fuzzed by tests/fuzz/fuzz_auth.c. */
#include "ingest/auth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

static int copy_key(const char *p, size_t n, char key[AUTH_KEY_MAX + 1])
{
    if (n == 0 || n > AUTH_KEY_MAX) return -ENOENT;
    memcpy(key, p, n);
    key[n] = '\0';
    return 0;
}

int auth_key_copy(const char *value, char key[AUTH_KEY_MAX + 1])
{
    return value ? copy_key(value, strlen(value), key) : -ENOENT;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Walks "k=v, k=v"; the first sentry_key with a non-empty value wins. */
int auth_key_from_header(const char *value, char key[AUTH_KEY_MAX + 1])
{
    if (!value) return -ENOENT;
    const char *p = value;
    while (is_space(*p))
        p++;
    if (strncasecmp(p, "sentry", 6) == 0 && is_space(p[6])) p += 7;
    while (*p) {
        while (is_space(*p) || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ',')
            p++;
        const char *name_end = p;
        while (name_end > name && is_space(name_end[-1]))
            name_end--;
        if (*p != '=') continue; /* a bare word: skip it */
        p++;
        while (is_space(*p))
            p++;
        const char *v = p, *v_end;
        if (*p == '"') {
            v = ++p;
            while (*p && *p != '"')
                p++;
            v_end = p;
            if (*p == '"') p++;
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                p++;
            v_end = p;
            while (v_end > v && is_space(v_end[-1]))
                v_end--;
        }
        if ((size_t)(name_end - name) == 10 && strncasecmp(name, "sentry_key", 10) == 0 &&
            copy_key(v, (size_t)(v_end - v), key) == 0)
            return 0;
    }
    return -ENOENT;
}

int auth_key_from_authorization(const char *value, char key[AUTH_KEY_MAX + 1])
{
    if (!value) return -ENOENT;
    while (is_space(*value))
        value++;
    if (strncasecmp(value, "sentry", 6) != 0 || !is_space(value[6])) return -ENOENT;
    return auth_key_from_header(value, key);
}

int auth_key_from_dsn(const char *dsn, char key[AUTH_KEY_MAX + 1])
{
    if (!dsn || !*dsn) return -ENOENT;
    CURLU *u = curl_url();
    char *user = NULL;
    int rc = -ENOENT;
    if (!u) return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, dsn, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE) == CURLUE_OK && user)
        rc = copy_key(user, strlen(user), key);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

bool auth_key_well_formed(const char *key)
{
    size_t n = 0;
    for (; key[n]; n++)
        if (!isxdigit((unsigned char)key[n])) return false;
    return n == 32;
}
