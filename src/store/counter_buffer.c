/* counter_buffer — the in-memory half of counters.h: three tables of deltas
 * (issues, tag pairs, hours), each a growable open-addressing hash over
 * byte keys that it owns. The SQL half is counters.c. */
#include "store/counter_buffer_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/event_tags.h"

enum { TABLE_MIN_SLOTS = 1024, HOUR_MS = 3600000 };

static uint64_t key_hash(const unsigned char *k, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ k[i]) * 1099511628211ULL;
    return h ^ h >> 31;
}

static void table_clear(struct counter_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int table_grow(struct counter_table *t)
{
    size_t slots = t->mask ? (t->mask + 1) * 2 : TABLE_MIN_SLOTS;
    uint32_t *ns = calloc(slots, sizeof *ns);
    struct counter_row **nr = realloc(t->rows, slots / 2 * sizeof *nr);
    if (!ns || !nr) {
        free(ns);
        if (nr) t->rows = nr;
        return -ENOMEM;
    }
    t->rows = nr;
    for (size_t i = 0; i < t->n; i++) {
        size_t s = t->rows[i]->hash & (slots - 1);
        while (ns[s])
            s = (s + 1) & (slots - 1);
        ns[s] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = ns;
    t->mask = slots - 1;
    return 0;
}

/* Adds count (and last, kept as the maximum) to the row of key. */
static int table_add(struct counter_table *t, const unsigned char *key, size_t len, int64_t count,
                     int64_t last)
{
    if (t->n + 1 > (t->mask + 1) / 2 && table_grow(t) != 0) return -ENOMEM;
    uint64_t h = key_hash(key, len);
    size_t s = h & t->mask;
    for (;; s = (s + 1) & t->mask) {
        uint32_t k = t->slots[s];
        if (k == 0) break;
        struct counter_row *r = t->rows[k - 1];
        if (r->hash == h && r->len == len && memcmp(r->key, key, len) == 0) {
            r->count += count;
            if (last > r->last) r->last = last;
            return 0;
        }
    }
    struct counter_row *r = malloc(sizeof *r + len);
    if (!r) return -ENOMEM;
    r->hash = h;
    r->count = count;
    r->last = last;
    r->len = len;
    memcpy(r->key, key, len);
    t->rows[t->n] = r;
    t->slots[s] = (uint32_t)++t->n;
    return 0;
}

struct counter_buffer *counter_buffer_new(void)
{
    return calloc(1, sizeof(struct counter_buffer));
}

void counter_buffer_clear(struct counter_buffer *b)
{
    table_clear(&b->issues);
    table_clear(&b->tags);
    table_clear(&b->hours);
}

void counter_buffer_free(struct counter_buffer *b)
{
    if (!b) return;
    counter_buffer_clear(b);
    free(b);
}

size_t counter_buffer_rows(const struct counter_buffer *b)
{
    return b->issues.n + b->tags.n + b->hours.n;
}

/* A row's key starts with the issue id and project id (8 bytes each,
 * native order) and the event's grouping hash with its NUL: where the
 * flush looks up which issue the increments belong to by then. */
enum { PREFIX_MAX = 8 + 8 + COUNTER_HASH_MAX + 1 };

static size_t key_prefix(unsigned char *buf, int64_t issue_id, int64_t project_id, const char *hash)
{
    size_t hl = hash ? strnlen(hash, COUNTER_HASH_MAX) : 0;
    memcpy(buf, &issue_id, 8);
    memcpy(buf + 8, &project_id, 8);
    if (hl) memcpy(buf + 16, hash, hl);
    buf[16 + hl] = '\0';
    return 16 + hl + 1;
}

/* Tag keys are EVENT_TAG_KEY_MAX bytes at most, values EVENT_TAG_VALUE_MAX:
 * a pair's key (prefix, key, NUL, value) always fits. */
enum { TAG_KEY_BYTES = PREFIX_MAX + EVENT_TAG_KEY_MAX + 1 + EVENT_TAG_VALUE_MAX + 8 };

static int add_tag(struct counter_buffer *b, const unsigned char *prefix, size_t pl,
                   const char *key, const char *value, int64_t n, int64_t seen_ms)
{
    unsigned char buf[TAG_KEY_BYTES];
    size_t kl = strlen(key), vl = strlen(value);
    if (pl + kl + 1 + vl > sizeof buf) return 0; /* event_tags skips these already */
    memcpy(buf, prefix, pl);
    memcpy(buf + pl, key, kl + 1);
    memcpy(buf + pl + kl + 1, value, vl);
    return table_add(&b->tags, buf, pl + kl + 1 + vl, n, seen_ms);
}

int counter_buffer_add(struct counter_buffer *b, const struct counter_event *ev, int64_t n)
{
    unsigned char key[PREFIX_MAX + 8];
    size_t pl = key_prefix(key, ev->issue_id, ev->project_id, ev->hash);
    int rc = table_add(&b->issues, key, pl, n, ev->timestamp_ms);
    int64_t hour = ev->received_at_ms / HOUR_MS * HOUR_MS;
    memcpy(key + pl, &hour, 8);
    if (rc == 0) rc = table_add(&b->hours, key, pl + 8, n, 0);
    for (size_t i = 0; rc == 0 && ev->tags && i < ev->tags->n; i++)
        rc = add_tag(b, key, pl, ev->tags->tag[i].key, ev->tags->tag[i].value, n, ev->timestamp_ms);
    return rc;
}

int counter_buffer_add_event(struct counter_buffer *b, int64_t issue_id, int64_t timestamp_ms,
                             int64_t received_at_ms, const struct event_tags *tags)
{
    struct counter_event ev = {.issue_id = issue_id,
                               .timestamp_ms = timestamp_ms,
                               .received_at_ms = received_at_ms,
                               .tags = tags};
    return counter_buffer_add(b, &ev, 1);
}

int64_t counter_row_issue(const struct counter_row *r)
{
    int64_t id;
    memcpy(&id, r->key, 8);
    return id;
}

int64_t counter_row_project(const struct counter_row *r)
{
    int64_t id;
    memcpy(&id, r->key + 8, 8);
    return id;
}

size_t counter_row_prefix(const struct counter_row *r)
{
    return 16 + strlen((const char *)r->key + 16) + 1;
}
