/* web_release — release ids in the web files' URLs (contract in
 * web_release.h). */
#include "http/web_release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool web_release_rewrites(const char *path)
{
    return strcmp(path, "index.html") == 0 || ends_with(path, ".js");
}

static bool ident_char(unsigned char c)
{
    return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Where a URL to version starts at p (after its opening quote), or NULL:
 * in HTML "\"/static/", in JS "from '" or "from \"" then "./" or "../". */
static size_t url_start(const unsigned char *b, size_t len, size_t i, bool html)
{
    if (html) {
        static const char pat[] = "\"/static/";
        size_t n = sizeof pat - 1;
        return i + n <= len && memcmp(b + i, pat, n) == 0 ? i + 1 : 0;
    }
    if (i + 6 > len || memcmp(b + i, "from", 4) != 0) return 0;
    if (i > 0 && ident_char(b[i - 1])) return 0; /* "xfrom" is not "from" */
    size_t j = i + 4;
    while (j < len && (b[j] == ' ' || b[j] == '\t'))
        j++;
    if (j >= len || (b[j] != '\'' && b[j] != '"')) return 0;
    j++;
    bool rel = (j + 2 <= len && memcmp(b + j, "./", 2) == 0) ||
               (j + 3 <= len && memcmp(b + j, "../", 3) == 0);
    return rel ? j : 0;
}

int web_release_rewrite(unsigned char **body, size_t *len, const char *path, const char *release)
{
    bool html = !ends_with(path, ".js");
    const unsigned char *b = *body;
    size_t n = *len, vlen = strlen(release) + 3; /* "?v=" release */
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (url_start(b, n, i, html)) count++;
    unsigned char *out = malloc(n + count * vlen + 1);
    if (!out) return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t start = url_start(b, n, i, html);
        if (!start) {
            out[o++] = b[i++];
            continue;
        }
        unsigned char quote = b[start - 1];
        size_t end = start;
        while (end < n && b[end] != quote && b[end] != '\n' && b[end] != '?')
            end++;
        memcpy(out + o, b + i, end - i);
        o += end - i;
        if (end < n && b[end] == quote) {
            memcpy(out + o, "?v=", 3);
            memcpy(out + o + 3, release, vlen - 3);
            o += vlen;
        }
        i = end;
    }
    out[o] = '\0';
    free(*body);
    *body = out;
    *len = o;
    return 0;
}
