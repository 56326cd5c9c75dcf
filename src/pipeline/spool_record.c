/* spool_record — see spool_record.h. */
#include "pipeline/spool_record.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/event.h"
#include "model/event_tags.h"

#define NULL_LEN 0xFFFFFFFFu
#define RECORD_VERSION 1

static const char *const LEVELS[] = {"fatal", "error", "warning", "info", "debug"};

int spool_buf_reserve(struct spool_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return -ENOMEM;
        cap *= 2;
    }
    unsigned char *p = realloc(b->p, cap);
    if (!p) return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int put(struct spool_buf *b, const void *p, size_t n)
{
    if (spool_buf_reserve(b, n) < 0) return -ENOMEM;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_u64(struct spool_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return put(b, x, 8);
}

static int put_u32(struct spool_buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return put(b, x, 4);
}

static int put_bytes(struct spool_buf *b, const void *p, size_t n)
{
    if (!p) return put_u32(b, NULL_LEN);
    if (n >= NULL_LEN) return -ENOMEM;
    return put_u32(b, (uint32_t)n) < 0 ? -ENOMEM : put(b, p, n);
}

static int put_str(struct spool_buf *b, const char *s)
{
    return put_bytes(b, s, s ? strlen(s) : 0);
}

int spool_record_encode(struct spool_buf *b, const struct grouped_event *ev)
{
    unsigned char head[2] = {RECORD_VERSION, (unsigned char)ev->grouping};
    size_t ntags = ev->tags ? ev->tags->n : 0;
    if (put(b, head, 2) < 0 || put_u64(b, (uint64_t)ev->project_id) < 0 ||
        put(b, ev->event_id, 16) < 0 || put_u64(b, (uint64_t)ev->received_at_ms) < 0 ||
        put_u64(b, (uint64_t)ev->timestamp_ms) < 0 || put_str(b, ev->hash) < 0 ||
        put_str(b, ev->title) < 0 || put_str(b, ev->culprit) < 0 || put_str(b, ev->level) < 0 ||
        put_str(b, ev->environment) < 0 || put_str(b, ev->release) < 0 ||
        put_bytes(b, ev->payload ? ev->payload : "", ev->payload_len) < 0 ||
        put_u32(b, (uint32_t)ntags) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < ntags; i++)
        if (put_str(b, ev->tags->tag[i].key) < 0 || put_str(b, ev->tags->tag[i].value) < 0)
            return -ENOMEM;
    return 0;
}

struct reader {
    const unsigned char *p;
    size_t len, off;
    bool bad;
};

static uint64_t get_u64(struct reader *r)
{
    if (r->len - r->off < 8) return r->bad = true, 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return v;
}

static uint32_t get_u32(struct reader *r)
{
    if (r->len - r->off < 4) return r->bad = true, 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 4;
    return v;
}

/* Borrowed pointer into the body and its length; NULL for a NULL value
 * (or when bad). */
static const unsigned char *get_bytes(struct reader *r, size_t *n)
{
    uint32_t len = get_u32(r);
    *n = 0;
    if (r->bad || len == NULL_LEN) return NULL;
    if (r->len - r->off < len) return r->bad = true, NULL;
    const unsigned char *p = r->p + r->off;
    r->off += len;
    *n = len;
    return p;
}

/* A new NUL-terminated copy, NULL for NULL; sets r->bad when out of memory. */
static char *get_str(struct reader *r)
{
    size_t n;
    const unsigned char *p = get_bytes(r, &n);
    if (!p) return NULL;
    char *s = malloc(n + 1);
    if (!s) return r->bad = true, NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static const char *static_level(const char *s)
{
    for (size_t i = 0; s && i < sizeof LEVELS / sizeof LEVELS[0]; i++)
        if (strcmp(s, LEVELS[i]) == 0) return LEVELS[i];
    return "error";
}

/* The tags block: n pairs, then the strings (event_tags.h's layout). */
static int decode_tags(struct reader *r, struct event_tags **out)
{
    uint32_t n = get_u32(r);
    if (r->bad || n > EVENT_TAGS_MAX) return -EBADMSG;
    *out = NULL;
    if (n == 0) return 0;
    const unsigned char *kp[EVENT_TAGS_MAX], *vp[EVENT_TAGS_MAX];
    size_t kl[EVENT_TAGS_MAX], vl[EVENT_TAGS_MAX], room = 0;
    for (uint32_t i = 0; i < n; i++) {
        kp[i] = get_bytes(r, &kl[i]);
        vp[i] = get_bytes(r, &vl[i]);
        if (r->bad || !kp[i] || !vp[i]) return -EBADMSG;
        room += kl[i] + vl[i] + 2;
    }
    struct event_tags *t = malloc(sizeof *t + n * sizeof t->tag[0] + room);
    if (!t) return -ENOMEM;
    char *s = (char *)&t->tag[n];
    for (uint32_t i = 0; i < n; i++) {
        memcpy(s, kp[i], kl[i]);
        s[kl[i]] = '\0';
        t->tag[i].key = s;
        s += kl[i] + 1;
        memcpy(s, vp[i], vl[i]);
        s[vl[i]] = '\0';
        t->tag[i].value = s;
        s += vl[i] + 1;
    }
    t->n = n;
    *out = t;
    return 0;
}

int spool_record_decode(const unsigned char *p, size_t len, struct grouped_event **out)
{
    struct reader r = {p, len, 0, false};
    if (len < 2 || p[0] != RECORD_VERSION || p[1] > EVENT_GROUPED_BY_FALLBACK) return -EBADMSG;
    r.off = 2;
    struct grouped_event *ev = grouped_event_new();
    if (!ev) return -ENOMEM;
    ev->grouping = (enum event_grouping)p[1];
    ev->project_id = (int64_t)get_u64(&r);
    if (r.len - r.off >= 16) memcpy(ev->event_id, r.p + r.off, 16);
    r.off = r.len - r.off >= 16 ? r.off + 16 : (r.bad = true, r.off);
    ev->received_at_ms = (int64_t)get_u64(&r);
    ev->timestamp_ms = (int64_t)get_u64(&r);
    size_t n;
    const unsigned char *hash = get_bytes(&r, &n);
    if (!hash || n >= sizeof ev->hash)
        r.bad = true;
    else
        memcpy(ev->hash, hash, n);
    ev->title = get_str(&r);
    ev->culprit = get_str(&r);
    char *level = get_str(&r);
    ev->level = static_level(level);
    free(level);
    ev->environment = get_str(&r);
    ev->release = get_str(&r);
    const unsigned char *payload = get_bytes(&r, &n);
    if (payload && !r.bad && (ev->payload = malloc(n ? n : 1))) {
        memcpy(ev->payload, payload, n);
        ev->payload_len = n;
    } else {
        r.bad = true;
    }
    int rc = r.bad ? -EBADMSG : decode_tags(&r, &ev->tags);
    if (rc == 0 && r.off != r.len) rc = -EBADMSG;
    if (rc < 0) {
        grouped_event_free(ev);
        return rc;
    }
    *out = ev;
    return 0;
}
