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

/* Tag keys are EVENT_TAG_KEY_MAX bytes at most, values EVENT_TAG_VALUE_MAX:
 * a pair's key (issue id, key, NUL, value) always fits. */
enum { TAG_KEY_BYTES = 8 + EVENT_TAG_KEY_MAX + 1 + EVENT_TAG_VALUE_MAX + 8 };

static int add_tag(struct counter_buffer *b, int64_t issue_id, const char *key, const char *value,
                   int64_t seen_ms)
{
    unsigned char buf[TAG_KEY_BYTES];
    size_t kl = strlen(key), vl = strlen(value);
    if (8 + kl + 1 + vl > sizeof buf) return 0; /* event_tags skips these already */
    memcpy(buf, &issue_id, 8);
    memcpy(buf + 8, key, kl + 1);
    memcpy(buf + 8 + kl + 1, value, vl);
    return table_add(&b->tags, buf, 8 + kl + 1 + vl, 1, seen_ms);
}

int counter_buffer_add_event(struct counter_buffer *b, int64_t issue_id, int64_t timestamp_ms,
                             int64_t received_at_ms, const struct event_tags *tags)
{
    int rc = table_add(&b->issues, (const unsigned char *)&issue_id, 8, 1, timestamp_ms);
    int64_t hour[2] = {issue_id, received_at_ms / HOUR_MS * HOUR_MS};
    if (rc == 0) rc = table_add(&b->hours, (const unsigned char *)hour, sizeof hour, 1, 0);
    for (size_t i = 0; rc == 0 && tags && i < tags->n; i++)
        rc = add_tag(b, issue_id, tags->tag[i].key, tags->tag[i].value, timestamp_ms);
    return rc;
}

int64_t counter_row_issue(const struct counter_row *r)
{
    int64_t id;
    memcpy(&id, r->key, 8);
    return id;
}
