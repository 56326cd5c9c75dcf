/* scrub — the walk over an event (see scrub.h); the key automaton is
 * scrub_rules.c, the string passes scrub_text.c, the settings
 * scrub_settings.c. */
#include "model/scrub.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/scrub_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Card numbers as JSON numbers: 13 to 16 digits are exact in a double. */
#define CARD_NUMBER_MIN 1e12
#define CARD_NUMBER_MAX 1e16

/* One scrub_event call: the rules and what happened so far. */
struct walk {
    const struct scrub_rules *r;
    size_t changed;
    int err;
};

/* Replaces a string's text with a copy of text[0..n). */
static int set_string(cJSON *item, const char *text, size_t n)
{
    char *copy = cJSON_malloc(n + 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, text, n);
    copy[n] = '\0';
    cJSON_free(item->valuestring);
    item->valuestring = copy;
    return 0;
}

/* The key rule: the value becomes "[Filtered]" in place (a container loses
 * its children), unless there is nothing to hide. */
static void filter_value(struct walk *w, cJSON *item)
{
    int type = item->type & 0xff;
    if (type == cJSON_NULL || type == cJSON_True || type == cJSON_False || type == cJSON_Invalid)
        return;
    if (type == cJSON_String && (!item->valuestring || !item->valuestring[0] ||
                                 strcmp(item->valuestring, SCRUB_FILTERED) == 0))
        return;
    if ((type == cJSON_Array || type == cJSON_Object) && !item->child) return;
    char *text = cJSON_malloc(sizeof SCRUB_FILTERED);
    if (!text) {
        w->err = -ENOMEM;
        return;
    }
    memcpy(text, SCRUB_FILTERED, sizeof SCRUB_FILTERED);
    cJSON_Delete(item->child);
    item->child = NULL;
    if (type == cJSON_String || type == cJSON_Raw) cJSON_free(item->valuestring);
    item->valuestring = text;
    item->valueint = 0;
    item->valuedouble = 0;
    item->type = cJSON_String | (item->type & cJSON_StringIsConst);
    w->changed++;
}

static unsigned passes_from(size_t digits, bool at, bool eq)
{
    return (at ? SCRUB_PASS_URL : 0) | (eq ? SCRUB_PASS_KV : 0) |
           (digits >= CARD_DIGITS_MIN ? SCRUB_PASS_CARD : 0);
}

#ifdef __SSE2__
/* 16 bytes of x counted into *digits, *at and *eq where mask is 0xff. */
static void passes_step(__m128i x, __m128i mask, __m128i *digits, __m128i *at, __m128i *eq)
{
    __m128i nine = _mm_set1_epi8(9);
    __m128i t = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i digit = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(t, nine), nine), mask);
    *digits = _mm_add_epi64(
        *digits, _mm_sad_epu8(_mm_and_si128(digit, _mm_set1_epi8(1)), _mm_setzero_si128()));
    *at = _mm_or_si128(*at, _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')), mask));
    *eq = _mm_or_si128(*eq, _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')), mask));
}

/* Which string passes can match s[0..n): '@' (URL credentials), '='
 * (key=value), 13 digits (a card). Most strings of an event need none, so
 * this looks at 16 bytes at a time; the last, partial block is read as the
 * string's last 16 bytes with the ones already counted masked off. */
static unsigned passes_for(const unsigned char *s, size_t n)
{
    static const unsigned char TAIL[32] = {
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    __m128i digits = _mm_setzero_si128(), at = digits, eq = digits, all = _mm_set1_epi8(-1);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        passes_step(_mm_loadu_si128((const __m128i *)(s + i)), all, &digits, &at, &eq);
    if (i < n) {
        size_t left = n - i;
        if (n >= 16) {
            passes_step(_mm_loadu_si128((const __m128i *)(s + n - 16)),
                        _mm_loadu_si128((const __m128i *)(TAIL + left)), &digits, &at, &eq);
        } else {
            unsigned char block[16] = {0}; /* NUL is none of the three */
            memcpy(block, s, n);
            passes_step(_mm_loadu_si128((const __m128i *)block), all, &digits, &at, &eq);
        }
    }
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, digits);
    return passes_from((size_t)(lanes[0] + lanes[1]), _mm_movemask_epi8(at) != 0,
                       _mm_movemask_epi8(eq) != 0);
}
#else
/* The same, a byte at a time. */
static unsigned passes_for(const unsigned char *s, size_t n)
{
    size_t digits = 0;
    bool at = false, eq = false;
    for (size_t i = 0; i < n; i++) {
        digits += (unsigned char)(s[i] - '0') < 10;
        at |= s[i] == '@';
        eq |= s[i] == '=';
    }
    return passes_from(digits, at, eq);
}
#endif

static void scrub_string(struct walk *w, cJSON *item)
{
    const char *s = item->valuestring;
    if (!s) return;
    size_t n = strlen(s);
    unsigned passes = passes_for((const unsigned char *)s, n);
    if (!passes) return;
    char *out = NULL;
    int rc = scrub_text(w->r, s, n, passes, &out);
    if (rc < 0) {
        w->err = rc;
        return;
    }
    if (rc == 0) return;
    if (strcmp(out, s) != 0) {
        if (set_string(item, out, strlen(out)) != 0)
            w->err = -ENOMEM;
        else
            w->changed++;
    }
    free(out);
}

/* An integral JSON number that reads as a card number. */
static void scrub_number(struct walk *w, cJSON *item)
{
    double v = fabs(item->valuedouble);
    if (v < CARD_NUMBER_MIN || v >= CARD_NUMBER_MAX || v != floor(v)) return;
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%.0f", v);
    if (n > 0 && (size_t)n < sizeof digits && scrub_card_number(digits, (size_t)n))
        filter_value(w, item);
}

static void scrub_value(struct walk *w, cJSON *item, int depth);

/* Top-level members that hold no personal data and steer processing (as
 * Relay leaves them out): a fingerprint such as ["auth-error", "login"]
 * must not read as a [key, value] pair and lose its second part. */
static bool is_unscrubbed(const char *key)
{
    static const char *const KEYS[] = {"fingerprint", "sdk", "debug_meta", NULL};
    for (const char *const *k = KEYS; *k; k++)
        if (strcmp(*k, key) == 0) return true;
    return false;
}

/* A [key, value] pair: an array of two whose first element is a string. */
static bool scrub_pair(struct walk *w, cJSON *array, int depth)
{
    cJSON *key = array->child;
    if (!key || !key->next || key->next->next || !cJSON_IsString(key) || !key->valuestring)
        return false;
    switch (scrub_classify_cstr(w->r, key->valuestring)) {
    case SCRUB_KEY_SAFE:
        return true;
    case SCRUB_KEY_SENSITIVE:
        filter_value(w, key->next);
        return true;
    default:
        scrub_value(w, key, depth + 1);
        scrub_value(w, key->next, depth + 1);
        return true;
    }
}

static void scrub_value(struct walk *w, cJSON *item, int depth)
{
    if (w->err) return;
    switch (item->type & 0xff) {
    case cJSON_String:
        scrub_string(w, item);
        return;
    case cJSON_Number:
        scrub_number(w, item);
        return;
    case cJSON_Array:
        if (depth >= SCRUB_MAX_DEPTH) {
            filter_value(w, item);
        } else if (!scrub_pair(w, item, depth)) {
            for (cJSON *c = item->child; c && !w->err; c = c->next)
                scrub_value(w, c, depth + 1);
        }
        return;
    case cJSON_Object:
        if (depth >= SCRUB_MAX_DEPTH) {
            filter_value(w, item);
            return;
        }
        for (cJSON *c = item->child; c && !w->err; c = c->next) {
            if (depth == 0 && c->string && is_unscrubbed(c->string)) continue;
            enum scrub_key k = c->string ? scrub_classify_cstr(w->r, c->string) : SCRUB_KEY_PLAIN;
            if (k == SCRUB_KEY_SENSITIVE)
                filter_value(w, c);
            else if (k == SCRUB_KEY_PLAIN)
                scrub_value(w, c, depth + 1);
        }
        return;
    default:
        return;
    }
}

/* Removes object.key, counting it. */
static void drop_member(struct walk *w, cJSON *object, const char *key)
{
    cJSON *item = cJSON_IsObject(object) ? cJSON_GetObjectItemCaseSensitive(object, key) : NULL;
    if (!item) return;
    cJSON_Delete(cJSON_DetachItemViaPointer(object, item));
    w->changed++;
}

int scrub_event(const struct scrub_rules *rules, cJSON *event)
{
    if (!rules) rules = scrub_rules_default();
    if (!rules) return -ENOMEM;
    if (!cJSON_IsObject(event)) return 0;
    struct walk w = {.r = rules};
    if (rules->scrub_ip) {
        drop_member(&w, cJSON_GetObjectItemCaseSensitive(event, "user"), "ip_address");
        cJSON *request = cJSON_GetObjectItemCaseSensitive(event, "request");
        drop_member(&w, cJSON_GetObjectItemCaseSensitive(request, "env"), "REMOTE_ADDR");
    }
    if (rules->enabled) scrub_value(&w, event, 0);
    if (w.err) return w.err;
    return w.changed > INT32_MAX ? INT32_MAX : (int)w.changed;
}
