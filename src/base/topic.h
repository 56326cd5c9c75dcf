/* topic — a bounded multi-producer, multi-consumer in-memory queue of
 * pointers, the pub/sub between stages ("events": ingest → workers,
 * "alerts": writer → notifier, and worker → writer).
 *
 * Never grows: publish on a full topic fails at once (the caller answers
 * 503), or, with topic_publish_wait, blocks until there is room or its
 * timeout passes. A topic may also own a byte budget (topic_limit_bytes):
 * the bytes of the items queued, counted in at publish and out at take, so
 * no producer or consumer keeps that count. Items are opaque pointers;
 * ownership moves to the consumer that takes them. All functions are
 * thread-safe. */
#ifndef PERISCOPE_TOPIC_H
#define PERISCOPE_TOPIC_H

#include <stddef.h>
#include <stdint.h>

struct topic;

struct topic_stats {
    size_t depth; /* items queued now */
    size_t capacity;
    size_t high_water; /* largest depth seen */
    size_t bytes;      /* the queued items' bytes (0 without topic_limit_bytes) */
    uint64_t published, rejected_full, taken;
};

/* NULL on allocation failure. name is copied (for metrics and logs). */
struct topic *topic_new(const char *name, size_t capacity);
/* Frees the topic; items still queued are not freed (drain first). */
void topic_free(struct topic *t);

/* The bytes one item counts against the topic's byte budget. */
typedef size_t (*topic_size_fn)(const void *item);

/* Gives the topic a byte budget of max_bytes, each item counting size(item)
 * (read once, at publish). A publish that would take the queued bytes past
 * it fails with -EAGAIN, unless the topic holds no bytes (one batch larger
 * than the budget still passes alone). Call before the topic is used. 0 or
 * -ENOMEM. */
int topic_limit_bytes(struct topic *t, size_t max_bytes, topic_size_fn size);

/* 0, -EAGAIN when full (items or bytes), -ESHUTDOWN when closed. Never
 * blocks. */
int topic_publish(struct topic *t, void *item);
/* Publishes all n or none: 0, -EAGAIN, -ESHUTDOWN. */
int topic_publish_many(struct topic *t, void **items, size_t n);

/* Publishes as many of the n items as there is room for, in order,
 * waiting up to timeout_ms (< 0: forever) for room while none is. Returns
 * the count published (0 when the timeout passed with the topic full), or
 * -ESHUTDOWN once closed. */
int topic_publish_wait(struct topic *t, void **items, size_t n, int timeout_ms);

/* Blocks until at least one item is there (or timeout_ms passes; < 0 waits
 * forever, 0 polls), then takes up to max items into out. Returns the count
 * taken; 0 on timeout; -ESHUTDOWN once closed and empty. */
int topic_take(struct topic *t, void **out, size_t max, int timeout_ms);

/* Wakes every waiter; publish fails from now on; take still drains what is
 * queued, then answers -ESHUTDOWN. */
void topic_close(struct topic *t);

void topic_stats(struct topic *t, struct topic_stats *out);

#endif
