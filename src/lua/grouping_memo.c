/* lua/grouping_memo — the bounded result table, shared by threads through
 * striped locks (the key is grouping_memo_key.c). */
#include "lua/grouping_memo.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

#define WAYS 4 /* slots a bucket */
#define STRIPES_MAX 64
#define FLUSH_EVERY 64
#define HASH_LEN 32
#define TEXT_BYTES_MAX (GROUPING_MEMO_TEXT_MAX + 2) /* title\0culprit\0 */
/* A stripe's budget holds a longest entry even in a small memo. */
#define STRIPE_BUDGET_MIN (4 * (HASH_LEN + TEXT_BYTES_MAX))

struct entry {
    uint64_t lo, hi;
    int64_t project_id;
    uint64_t generation;
    char *block; /* NULL: empty slot; else hash[32] "title\0culprit\0" (owned) */
    uint16_t title_len;
    uint16_t text_len; /* of "title\0culprit\0" */
    uint16_t charge;   /* allocator bytes of block (at most ~1.1 KiB), against the
                        * stripe's budget */
    bool ref;          /* used since the clock last passed */
};
_Static_assert(sizeof(struct entry) == 48, "the header's memory figures assume 48-byte slots");

/* One lock's share: the buckets whose index is the stripe's modulo the
 * stripe count. A cache line of its own, so stripes do not contend. */
struct stripe {
    _Alignas(64) pthread_mutex_t lock;
    size_t live;       /* under lock */
    size_t text_bytes; /* under lock: the live blocks' charges */
    size_t hand;       /* under lock: reclaim's clock, a slot of the stripe */
    atomic_uint_fast64_t hits, misses;
};

struct grouping_memo {
    struct entry *slots; /* buckets * WAYS */
    struct stripe *stripes;
    size_t bucket_mask;   /* buckets - 1 */
    size_t stripe_mask;   /* stripes - 1 */
    size_t stripe_budget; /* text bytes a stripe may hold */
};

static _Thread_local unsigned pending_hits, pending_misses;

int grouping_memo_new(size_t entries, struct grouping_memo **out)
{
    size_t cap = WAYS;
    while (cap < entries)
        cap *= 2;
    size_t buckets = cap / WAYS, nstripes = buckets < STRIPES_MAX ? buckets : STRIPES_MAX;
    struct grouping_memo *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    m->slots = calloc(cap, sizeof *m->slots);
    m->stripes = aligned_alloc(_Alignof(struct stripe), nstripes * sizeof *m->stripes);
    if (!m->slots || !m->stripes) goto fail;
    m->bucket_mask = buckets - 1;
    m->stripe_mask = nstripes - 1;
    m->stripe_budget = cap / nstripes * GROUPING_MEMO_TEXT_BUDGET_PER_SLOT;
    if (m->stripe_budget < STRIPE_BUDGET_MIN) m->stripe_budget = STRIPE_BUDGET_MIN;
    for (size_t i = 0; i < nstripes; i++) {
        struct stripe *s = &m->stripes[i];
        memset(s, 0, sizeof *s);
        pthread_mutex_init(&s->lock, NULL);
        atomic_init(&s->hits, 0);
        atomic_init(&s->misses, 0);
    }
    *out = m;
    return 0;
fail:
    free(m->slots);
    free(m->stripes);
    free(m);
    return -ENOMEM;
}

void grouping_memo_flush_counts(void)
{
    if (pending_hits) metrics_add("periscope_grouping_memo_total", "result=\"hit\"", pending_hits);
    if (pending_misses)
        metrics_add("periscope_grouping_memo_total", "result=\"miss\"", pending_misses);
    pending_hits = pending_misses = 0;
}

void grouping_memo_free(struct grouping_memo *m)
{
    grouping_memo_flush_counts();
    if (!m) return;
    for (size_t i = 0; i < (m->bucket_mask + 1) * WAYS; i++)
        free(m->slots[i].block);
    for (size_t i = 0; i <= m->stripe_mask; i++)
        pthread_mutex_destroy(&m->stripes[i].lock);
    free(m->slots);
    free(m->stripes);
    free(m);
}

static void count(struct stripe *s, bool hit)
{
    atomic_fetch_add_explicit(hit ? &s->hits : &s->misses, 1, memory_order_relaxed);
    if (hit)
        pending_hits++;
    else
        pending_misses++;
    if (pending_hits + pending_misses >= FLUSH_EVERY) grouping_memo_flush_counts();
}

static size_t bucket_index(const struct grouping_memo *m, const struct grouping_memo_key *key)
{
    return (size_t)key->lo & m->bucket_mask;
}

static bool matches(const struct entry *e, const struct grouping_memo_key *key)
{
    return e->block && e->lo == key->lo && e->hi == key->hi && e->project_id == key->project_id &&
           e->generation == key->generation;
}

/* Under the stripe's lock. */
static struct entry *find(struct entry *b, const struct grouping_memo_key *key)
{
    for (int i = 0; i < WAYS; i++)
        if (matches(&b[i], key)) return &b[i];
    return NULL;
}

int grouping_memo_get(struct grouping_memo *m, const struct grouping_memo_key *key, char hash[33],
                      char **title, char **culprit)
{
    size_t bi = bucket_index(m, key);
    struct stripe *s = &m->stripes[bi & m->stripe_mask];
    char copy[HASH_LEN + TEXT_BYTES_MAX];
    size_t title_len = 0, text_len = 0;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(&m->slots[bi * WAYS], key);
    bool found = e != NULL;
    if (found) {
        /* copied out now: once unlocked, a put may free the block */
        title_len = e->title_len;
        text_len = e->text_len;
        memcpy(copy, e->block, HASH_LEN + text_len);
        e->ref = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (!found) {
        count(s, false);
        return 0;
    }
    size_t culprit_len = text_len - title_len - 2;
    *title = malloc(title_len + 1);
    *culprit = malloc(culprit_len + 1);
    if (!*title || !*culprit) {
        free(*title);
        free(*culprit);
        *title = *culprit = NULL;
        count(s, false);
        return -ENOMEM;
    }
    memcpy(*title, copy + HASH_LEN, title_len + 1);
    memcpy(*culprit, copy + HASH_LEN + title_len + 1, culprit_len + 1);
    memcpy(hash, copy, HASH_LEN);
    hash[HASH_LEN] = '\0';
    count(s, true);
    return 1;
}

/* Under the stripe's lock: the slot a new entry takes. An entry of another
 * generation (never asked for again), else an empty slot, else one not
 * used since the clock last passed; all used: the clock clears them and
 * one goes (picked by digest bits, so no slot is always the one). */
static struct entry *victim(struct entry *b, const struct grouping_memo_key *key)
{
    struct entry *empty = NULL, *unused = NULL;
    for (int i = 0; i < WAYS; i++) {
        struct entry *e = &b[i];
        if (!e->block)
            empty = empty ? empty : e;
        else if (e->generation != key->generation)
            return e;
        else if (!e->ref)
            unused = unused ? unused : e;
    }
    if (empty) return empty;
    if (unused) return unused;
    for (int i = 0; i < WAYS; i++)
        b[i].ref = false;
    return &b[key->hi % WAYS];
}

/* Under the stripe's lock: empties e; its block is freed there and then. */
static void evict(struct stripe *s, struct entry *e)
{
    if (!e->block) return;
    free(e->block);
    s->text_bytes -= e->charge;
    s->live--;
    *e = (struct entry){0};
}

/* Under the stripe's lock: the clock over the whole stripe, for when its
 * text budget (not its slots) is what is short. Evicts entries not used
 * since it last passed until `need` more bytes fit. Two rounds at most:
 * the first clears every mark, so the second can empty the stripe, and a
 * budget holds several longest entries. */
static void reclaim(struct grouping_memo *m, struct stripe *s, size_t need)
{
    size_t stripe = (size_t)(s - m->stripes), nstripes = m->stripe_mask + 1;
    size_t slots = (m->bucket_mask + 1) / nstripes * WAYS;
    for (size_t step = 0; step < 2 * slots && s->text_bytes + need > m->stripe_budget; step++) {
        size_t p = s->hand;
        s->hand = (p + 1) % slots;
        struct entry *e = &m->slots[(stripe + p / WAYS * nstripes) * WAYS + p % WAYS];
        if (e->ref)
            e->ref = false;
        else
            evict(s, e);
    }
}

void grouping_memo_put(struct grouping_memo *m, const struct grouping_memo_key *key,
                       const char hash[33], const char *title, const char *culprit)
{
    size_t tl = strlen(title), cl = strlen(culprit);
    if (tl + cl > GROUPING_MEMO_TEXT_MAX) return;
    char *block = malloc(HASH_LEN + tl + cl + 2);
    if (!block) return;
    memcpy(block, hash, HASH_LEN);
    memcpy(block + HASH_LEN, title, tl + 1);
    memcpy(block + HASH_LEN + tl + 1, culprit, cl + 1);
    size_t charge = malloc_usable_size(block);
    size_t bi = bucket_index(m, key);
    struct stripe *s = &m->stripes[bi & m->stripe_mask];
    struct entry *b = &m->slots[bi * WAYS];
    pthread_mutex_lock(&s->lock);
    /* another worker may have put the same result since our miss */
    if (!find(b, key)) {
        struct entry *v = victim(b, key);
        evict(s, v);
        if (s->text_bytes + charge > m->stripe_budget) reclaim(m, s, charge);
        if (s->text_bytes + charge <= m->stripe_budget) {
            *v = (struct entry){.lo = key->lo,
                                .hi = key->hi,
                                .project_id = key->project_id,
                                .generation = key->generation,
                                .block = block,
                                .title_len = (uint16_t)tl,
                                .text_len = (uint16_t)(tl + cl + 2),
                                .charge = (uint16_t)charge};
            s->live++;
            s->text_bytes += charge;
            block = NULL;
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(block); /* not taken: the key was there already */
}

void grouping_memo_stats(const struct grouping_memo *m, struct grouping_memo_stats *out)
{
    *out = (struct grouping_memo_stats){.capacity = (m->bucket_mask + 1) * WAYS};
    for (size_t i = 0; i <= m->stripe_mask; i++) {
        struct stripe *s = &m->stripes[i];
        pthread_mutex_lock(&s->lock);
        out->entries += s->live;
        out->text_bytes += s->text_bytes;
        pthread_mutex_unlock(&s->lock);
        out->hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
        out->misses += atomic_load_explicit(&s->misses, memory_order_relaxed);
    }
}
