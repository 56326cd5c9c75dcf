/* utf8 — UTF-8 validation and lossy repair (utf8.h). */
#include "base/utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char REPLACEMENT[3] = {(char)0xEF, (char)0xBF, (char)0xBD}; /* U+FFFD */

/* The length of the valid sequence starting at s (n > 0 bytes left), or 0
 * with *bad the length of the maximal invalid subpart there (>= 1). */
static size_t sequence_at(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c == 0xE0)
        need = 2, lo = 0xA0; /* no overlong three-byte forms */
    else if (c == 0xED)
        need = 2, hi = 0x9F; /* no surrogates */
    else if (c >= 0xE1 && c <= 0xEF)
        need = 2;
    else if (c == 0xF0)
        need = 3, lo = 0x90; /* no overlong four-byte forms */
    else if (c == 0xF4)
        need = 3, hi = 0x8F; /* nothing past U+10FFFF */
    else if (c >= 0xF1 && c <= 0xF3)
        need = 3;
    else {
        *bad = 1; /* a stray continuation byte, C0, C1, F5..FF */
        return 0;
    }
    size_t k = 1;
    for (; k <= need && k < n; k++) {
        unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
        if (s[k] < min || s[k] > max) break;
    }
    if (k == need + 1) return k;
    *bad = k;
    return 0;
}

/* Bytes of s[0..len) that are valid from the start. Every event passes
 * here at ingest: ASCII is skipped eight bytes at a time. */
static size_t valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0, bad;
    while (i < len) {
        uint64_t word;
        if (i + sizeof word <= len) {
            memcpy(&word, s + i, sizeof word);
            if (!(word & 0x8080808080808080ULL)) {
                i += sizeof word;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sequence_at(s + i, len - i, &bad);
        if (k == 0) break;
        i += k;
    }
    return i;
}

bool utf8_valid(const char *s, size_t len)
{
    return valid_prefix((const unsigned char *)s, len) == len;
}

int utf8_repair(const char *s, size_t len, char **out, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = valid_prefix(u, len);
    *out = NULL;
    *out_len = 0;
    if (i == len) return 0;
    char *buf = malloc(len * 3 + 1); /* every byte may become U+FFFD */
    if (!buf) return -ENOMEM;
    memcpy(buf, s, i);
    size_t o = i, bad;
    while (i < len) {
        size_t k = sequence_at(u + i, len - i, &bad);
        if (k) {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(buf + o, REPLACEMENT, sizeof REPLACEMENT);
            o += sizeof REPLACEMENT;
            i += bad;
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 1;
}

cJSON *utf8_json_string(const char *s)
{
    if (!s) return cJSON_CreateNull();
    size_t len = strlen(s);
    char *fixed;
    size_t fixed_len;
    int rc = utf8_repair(s, len, &fixed, &fixed_len);
    if (rc < 0) return NULL;
    if (rc == 0) return json_new_strn(s, len);
    cJSON *j = json_new_strn(fixed, fixed_len);
    free(fixed);
    return j;
}
