/* lua/grouping_memo — digest of the grouping input, bounded result table. */
#include "lua/grouping_memo.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include <xxhash.h>

#include "metrics.h"
#include "lua/event_table.h"
#include "lua/event_walk.h"

#define FLUSH_EVERY 64
#define BUF_BYTES 1024

struct entry {
    uint64_t lo, hi;
    int64_t project_id;
    uint64_t generation;
    char *text; /* NULL: empty slot; else "title\0culprit\0" */
    size_t title_len;
    bool ref;   /* used since the clock last passed */
    char hash[33];
};

struct grouping_memo {
    struct entry *slots;
    size_t mask; /* capacity - 1 */
    size_t live;
    uint64_t hits, misses;
    unsigned pending_hits, pending_misses;
    XXH3_state_t *state;
    size_t n;    /* bytes in buf */
    unsigned char buf[BUF_BYTES];
};

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1)
        seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
}

int grouping_memo_new(size_t entries, struct grouping_memo **out)
{
    pthread_once(&seed_once, seed_init);
    size_t cap = 2;
    while (cap < entries)
        cap *= 2;
    struct grouping_memo *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->slots = calloc(cap, sizeof *m->slots);
    m->state = XXH3_createState();
    if (!m->slots || !m->state)
        goto fail;
    m->mask = cap - 1;
    metrics_describe("periscope_grouping_memo_total", "counter",
                     "Default groupings answered from a worker's memo (hit) or run in Lua (miss)");
    *out = m;
    return 0;
fail:
    grouping_memo_free(m);
    return -ENOMEM;
}

static void flush_counts(struct grouping_memo *m)
{
    if (m->pending_hits)
        metrics_add("periscope_grouping_memo_total", "result=\"hit\"", m->pending_hits);
    if (m->pending_misses)
        metrics_add("periscope_grouping_memo_total", "result=\"miss\"", m->pending_misses);
    m->pending_hits = m->pending_misses = 0;
}

void grouping_memo_free(struct grouping_memo *m)
{
    if (!m)
        return;
    flush_counts(m);
    if (m->slots)
        for (size_t i = 0; i <= m->mask; i++)
            free(m->slots[i].text);
    free(m->slots);
    XXH3_freeState(m->state);
    free(m);
}

static void count(struct grouping_memo *m, bool hit)
{
    if (hit) {
        m->hits++;
        m->pending_hits++;
    } else {
        m->misses++;
        m->pending_misses++;
    }
    if (m->pending_hits + m->pending_misses >= FLUSH_EVERY)
        flush_counts(m);
}

/* The digest sink: bytes are gathered in buf and handed to XXH3 in
 * blocks. Every value starts with a tag; strings and keys carry their
 * length, containers end with 'e': the encoding is prefix-free. */
static void feed(struct grouping_memo *m, const void *p, size_t len)
{
    if (m->n + len > BUF_BYTES) {
        XXH3_128bits_update(m->state, m->buf, m->n);
        m->n = 0;
        if (len > BUF_BYTES) {
            XXH3_128bits_update(m->state, p, len);
            return;
        }
    }
    memcpy(m->buf + m->n, p, len);
    m->n += len;
}

static void feed_string(struct grouping_memo *m, char tag, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    unsigned char head[1 + sizeof len];
    head[0] = (unsigned char)tag;
    memcpy(head + 1, &len, sizeof len);
    feed(m, head, sizeof head);
    if (len)
        feed(m, s, len);
}

static void feed_tag(struct grouping_memo *m, char tag)
{
    feed(m, &tag, 1);
}

static void digest_scalar(void *ctx, const cJSON *item)
{
    struct grouping_memo *m = ctx;
    switch (item->type & 0xff) {
    case cJSON_False: feed_tag(m, 'f'); break;
    case cJSON_True: feed_tag(m, 't'); break;
    case cJSON_NULL: feed_tag(m, 'z'); break;
    case cJSON_Number: {
        unsigned char b[1 + sizeof(double)];
        b[0] = 'n';
        memcpy(b + 1, &item->valuedouble, sizeof(double));
        feed(m, b, sizeof b);
        break;
    }
    default: feed_string(m, 's', item->valuestring); break;
    }
}

static void digest_open(void *ctx, const cJSON *item, int is_array)
{
    (void)item;
    feed_tag(ctx, is_array ? 'a' : 'o');
}

static void digest_close(void *ctx)
{
    feed_tag(ctx, 'e');
}

static void digest_member(void *ctx, const char *key)
{
    feed_string(ctx, 'k', key);
}

static void digest_element(void *ctx, long i)
{
    (void)ctx;
    (void)i; /* the position is implied by the order */
}

static void digest_nul(void *ctx)
{
    feed_tag(ctx, 'z'); /* Lua sees the same null as for a JSON null */
}

static const struct event_sink DIGEST_SINK = {
    digest_scalar, digest_open, digest_close, digest_member, digest_element, digest_nul,
};

void grouping_memo_key(struct grouping_memo *m, const struct event_table_args *args,
                       int64_t project_id, uint64_t generation, struct grouping_memo_key *key)
{
    XXH3_128bits_reset_withSeed(m->state, seed);
    m->n = 0;
    long head[2] = {args->max_depth, args->fields != NULL};
    feed(m, head, sizeof head);
    event_walk(&DIGEST_SINK, m, args);
    XXH3_128bits_update(m->state, m->buf, m->n);
    m->n = 0;
    XXH128_hash_t h = XXH3_128bits_digest(m->state);
    *key = (struct grouping_memo_key){.project_id = project_id, .generation = generation,
                                      .lo = h.low64, .hi = h.high64};
}

static struct entry *bucket(struct grouping_memo *m, const struct grouping_memo_key *key)
{
    return &m->slots[(size_t)key->lo & m->mask & ~(size_t)1];
}

static bool matches(const struct entry *e, const struct grouping_memo_key *key)
{
    return e->text && e->lo == key->lo && e->hi == key->hi && e->project_id == key->project_id &&
           e->generation == key->generation;
}

int grouping_memo_get(struct grouping_memo *m, const struct grouping_memo_key *key, char hash[33],
                      char **title, char **culprit)
{
    struct entry *b = bucket(m, key);
    for (int i = 0; i < 2; i++) {
        struct entry *e = &b[i];
        if (!matches(e, key))
            continue;
        *title = strdup(e->text);
        *culprit = strdup(e->text + e->title_len + 1);
        if (!*title || !*culprit) {
            free(*title);
            free(*culprit);
            *title = *culprit = NULL;
            count(m, false);
            return -ENOMEM;
        }
        memcpy(hash, e->hash, 33);
        e->ref = true;
        count(m, true);
        return 1;
    }
    count(m, false);
    return 0;
}

void grouping_memo_put(struct grouping_memo *m, const struct grouping_memo_key *key,
                       const char hash[33], const char *title, const char *culprit)
{
    size_t tl = strlen(title), cl = strlen(culprit);
    if (tl + cl > GROUPING_MEMO_TEXT_MAX)
        return;
    char *text = malloc(tl + cl + 2);
    if (!text)
        return;
    memcpy(text, title, tl + 1);
    memcpy(text + tl + 1, culprit, cl + 1);
    /* an empty slot, else the one not used since the clock passed (both
     * used: the clock clears them and the first goes) */
    struct entry *b = bucket(m, key);
    struct entry *victim = !b[0].text ? &b[0] : !b[1].text ? &b[1] : !b[0].ref ? &b[0] : !b[1].ref ? &b[1] : NULL;
    if (!victim) {
        b[0].ref = b[1].ref = false;
        victim = &b[0];
    }
    if (victim->text)
        free(victim->text);
    else
        m->live++;
    *victim = (struct entry){.lo = key->lo, .hi = key->hi, .project_id = key->project_id,
                             .generation = key->generation, .text = text, .title_len = tl};
    memcpy(victim->hash, hash, 33);
}

void grouping_memo_stats(const struct grouping_memo *m, struct grouping_memo_stats *out)
{
    *out = (struct grouping_memo_stats){.hits = m->hits, .misses = m->misses};
    out->entries = m->live;
    out->capacity = m->mask + 1;
}
