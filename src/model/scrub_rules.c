/* scrub_rules — the automaton that classifies keys for scrubbing (see
 * scrub.h): every sensitive word, exact name and safe field in one
 * Aho-Corasick automaton over folded key bytes, built once per settings
 * and shared by reference. */
#include "model/scrub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model/scrub_internal.h"

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
