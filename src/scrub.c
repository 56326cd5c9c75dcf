/* scrub — the rules' automaton and the walk over an event (see scrub.h);
 * the string passes are scrub_text.c, the settings scrub_settings.c. */
#include "scrub.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scrub_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

const char *const SCRUB_DEFAULT_WORDS[] = {
    "password", "passwd",      "secret",      "api_key",    "apikey",
    "auth",     "credentials", "mysql_pwd",   "privatekey", "private_key",
    "token",    "session",     "stripetoken", "sentry_dsn", NULL,
};

/* Whole names (not substrings): the Cookie and Set-Cookie headers and the
 * request's cookies. */
static const char *const EXACT_WORDS[] = {"cookie", "cookies", "set_cookie", NULL};

#define DELTA_FLAG_SHIFT 24
#define DELTA_OFFSET ((1u << DELTA_FLAG_SHIFT) - 1)

enum {
    KEY_STATE_WORD = 1,  /* a sensitive word ends here (kept along failure links) */
    KEY_STATE_EXACT = 2, /* the state's string is an exact sensitive name */
    KEY_STATE_SAFE = 4,  /* the state's string is a safe field */
};

/* Card numbers as JSON numbers: 13 to 16 digits are exact in a double. */
#define CARD_NUMBER_MIN 1e12
#define CARD_NUMBER_MAX 1e16

static void fill_classes(uint8_t cls[256], uint8_t text[256])
{
    memset(cls, KEY_CLASS_OTHER, 256);
    memset(text, 0, 256);
    for (int c = 'a'; c <= 'z'; c++) {
        cls[c] = cls[c - 'a' + 'A'] = (uint8_t)(c - 'a' + 1);
        text[c] = text[c - 'a' + 'A'] = TEXT_WORD | TEXT_USERINFO | TEXT_KV_KEY;
    }
    for (int c = '0'; c <= '9'; c++) {
        cls[c] = (uint8_t)(c - '0' + 27);
        text[c] = TEXT_DIGIT | TEXT_WORD | TEXT_USERINFO | TEXT_KV_KEY;
    }
    cls['_'] = cls['-'] = KEY_CLASS_UNDERSCORE;
    for (int c = 0x80; c < 256; c++)
        text[c] = TEXT_WORD | TEXT_KV_KEY;
    text['_'] |= TEXT_WORD | TEXT_KV_KEY;
    for (const char *p = "-.[]"; *p; p++)
        text[(unsigned char)*p] |= TEXT_KV_KEY;
    for (const char *p = "-._~%!$&'()*+,;=:"; *p; p++)
        text[(unsigned char)*p] |= TEXT_USERINFO;
    for (const char *p = "&;, \t\r\n\"'<>"; *p; p++)
        text[(unsigned char)*p] |= TEXT_KV_END;
    text[0] |= TEXT_KV_END;
}

/* Adds word to the trie with flag on its last state. Words are validated:
 * every byte maps to a class other than KEY_CLASS_OTHER. */
static void trie_add(struct scrub_rules *r, const char *word, uint8_t flag)
{
    size_t s = 0;
    for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
        uint8_t c = r->cls[*p];
        if (!r->next[s][c]) {
            size_t u = r->nstates++;
            r->depth[u] = (uint8_t)(r->depth[s] + 1);
            r->next[s][c] = (uint16_t)u;
        }
        s = r->next[s][c];
    }
    r->flags[s] |= flag;
}

/* Completes the trie into the automaton: failure links by breadth, each
 * missing edge copied from the failure state's, the word flag inherited
 * along failure links. */
static int complete(struct scrub_rules *r)
{
    uint16_t *fail = calloc(r->nstates, sizeof *fail);
    uint16_t *queue = malloc(r->nstates * sizeof *queue);
    if (!fail || !queue) {
        free(fail);
        free(queue);
        return -ENOMEM;
    }
    size_t head = 0, tail = 0;
    for (int c = 0; c < KEY_CLASSES; c++)
        if (r->next[0][c]) queue[tail++] = r->next[0][c]; /* fail = root */
    while (head < tail) {
        uint16_t v = queue[head++];
        r->flags[v] |= r->flags[fail[v]] & KEY_STATE_WORD;
        for (int c = 0; c < KEY_CLASSES; c++) {
            /* Until v is completed its row holds only its trie children. */
            uint16_t u = r->next[v][c];
            uint16_t via_fail = r->next[fail[v]][c];
            if (u) {
                fail[u] = via_fail;
                queue[tail++] = u;
            } else {
                r->next[v][c] = via_fail;
            }
        }
    }
    free(fail);
    free(queue);
    r->delta = malloc(r->nstates * KEY_CLASSES * sizeof *r->delta);
    if (!r->delta) return -ENOMEM;
    for (size_t s = 0; s < r->nstates; s++)
        for (int c = 0; c < KEY_CLASSES; c++) {
            uint16_t u = r->next[s][c];
            r->delta[s * KEY_CLASSES + c] =
                (uint32_t)u * KEY_CLASSES | (uint32_t)(r->flags[u] & KEY_STATE_WORD)
                                                << DELTA_FLAG_SHIFT;
        }
    free(r->next);
    r->next = NULL;
    return 0;
}

static size_t words_bytes(const char *const *words)
{
    size_t n = 0;
    for (; *words; words++)
        n += strlen(*words);
    return n;
}

/* 1..SCRUB_FIELD_MAX_BYTES bytes of [A-Za-z0-9_-]: every byte has a class
 * of its own in the automaton. */
bool scrub_field_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SCRUB_FIELD_MAX_BYTES) return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool names_valid(const char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t n)
{
    if (n > SCRUB_FIELDS_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!scrub_field_name_valid(names[i])) return false;
    return true;
}

int scrub_rules_new(const struct scrub_settings *st, struct scrub_rules **out)
{
    if (!names_valid(st->sensitive, st->n_sensitive) || !names_valid(st->safe, st->n_safe))
        return -EINVAL;
    size_t bytes = words_bytes(SCRUB_DEFAULT_WORDS) + words_bytes(EXACT_WORDS);
    for (size_t i = 0; i < st->n_sensitive; i++)
        bytes += strlen(st->sensitive[i]);
    for (size_t i = 0; i < st->n_safe; i++)
        bytes += strlen(st->safe[i]);
    struct scrub_rules *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    atomic_init(&r->refs, 1);
    r->enabled = st->enabled;
    r->scrub_ip = st->scrub_ip_addresses;
    fill_classes(r->cls, r->text);
    size_t cap = bytes + 1;
    r->next = calloc(cap, sizeof *r->next);
    r->flags = calloc(cap, 1);
    r->depth = calloc(cap, 1);
    r->nstates = 1;
    int rc = -ENOMEM;
    if (!r->next || !r->flags || !r->depth) goto fail;
    for (const char *const *w = SCRUB_DEFAULT_WORDS; *w; w++)
        trie_add(r, *w, KEY_STATE_WORD);
    for (const char *const *w = EXACT_WORDS; *w; w++)
        trie_add(r, *w, KEY_STATE_EXACT);
    for (size_t i = 0; i < st->n_sensitive; i++)
        trie_add(r, st->sensitive[i], KEY_STATE_WORD);
    for (size_t i = 0; i < st->n_safe; i++)
        trie_add(r, st->safe[i], KEY_STATE_SAFE);
    if ((rc = complete(r)) != 0) goto fail;
    *out = r;
    return 0;
fail:
    scrub_rules_unref(r);
    return rc;
}

static struct scrub_rules *default_rules;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void build_default(void)
{
    struct scrub_settings st;
    scrub_settings_default(&st);
    if (scrub_rules_new(&st, &default_rules) == 0) default_rules->is_default = true;
}

const struct scrub_rules *scrub_rules_default(void)
{
    pthread_once(&default_once, build_default);
    return default_rules;
}

struct scrub_rules *scrub_rules_ref(const struct scrub_rules *r)
{
    struct scrub_rules *m = (struct scrub_rules *)r;
    if (m && !m->is_default) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void scrub_rules_unref(const struct scrub_rules *r)
{
    struct scrub_rules *m = (struct scrub_rules *)r;
    if (!m || m->is_default) return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
    free(m->next);
    free(m->delta);
    free(m->flags);
    free(m->depth);
    free(m);
}

/* After the last byte: the state at row offset off, the flags seen. */
static enum scrub_key key_result(const struct scrub_rules *r, uint32_t off, uint32_t seen,
                                 size_t len)
{
    size_t s = off / KEY_CLASSES;
    bool whole = r->depth[s] == len; /* the state's string is the whole key */
    if (whole && (r->flags[s] & KEY_STATE_SAFE)) return SCRUB_KEY_SAFE;
    if ((seen >> DELTA_FLAG_SHIFT & KEY_STATE_WORD) || (whole && (r->flags[s] & KEY_STATE_EXACT)))
        return SCRUB_KEY_SENSITIVE;
    return SCRUB_KEY_PLAIN;
}

enum scrub_key scrub_classify(const struct scrub_rules *r, const char *key, size_t len)
{
    uint32_t off = 0, seen = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t e = r->delta[off + r->cls[(unsigned char)key[i]]];
        seen |= e;
        off = e & DELTA_OFFSET;
    }
    return key_result(r, off, seen, len);
}

enum scrub_key scrub_classify_cstr(const struct scrub_rules *r, const char *key)
{
    uint32_t off = 0, seen = 0;
    size_t len = 0;
    for (unsigned char c; (c = (unsigned char)key[len]) != 0; len++) {
        uint32_t e = r->delta[off + r->cls[c]];
        seen |= e;
        off = e & DELTA_OFFSET;
    }
    return key_result(r, off, seen, len);
}

int scrub_key_class(const struct scrub_rules *r, const char *key, size_t len)
{
    if (!r) r = scrub_rules_default();
    return r ? (int)scrub_classify(r, key, len) : -ENOMEM;
}

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
