/* topic — a bounded multi-producer, multi-consumer in-memory queue of
 * pointers, the pub/sub between stages ("events": ingest → workers,
 * "alerts": writer → notifier, and worker → writer).
 *
 * Never grows: publish on a full topic fails at once (the caller answers
 * 503). Items are opaque pointers; ownership moves to the consumer that
 * takes them. All functions are thread-safe. */
#ifndef PERISCOPE_TOPIC_H
#define PERISCOPE_TOPIC_H

#include <stddef.h>
#include <stdint.h>

struct topic;

struct topic_stats {
    size_t depth; /* items queued now */
    size_t capacity;
    size_t high_water; /* largest depth seen */
    uint64_t published, rejected_full, taken;
};

/* NULL on allocation failure. name is copied (for metrics and logs). */
struct topic *topic_new(const char *name, size_t capacity);
/* Frees the topic; items still queued are not freed (drain first). */
void topic_free(struct topic *t);

/* 0, -EAGAIN when full, -ESHUTDOWN when closed. Never blocks. */
int topic_publish(struct topic *t, void *item);
/* Publishes all n or none: 0, -EAGAIN, -ESHUTDOWN. */
int topic_publish_many(struct topic *t, void **items, size_t n);

/* Blocks until at least one item is there (or timeout_ms passes; < 0 waits
 * forever, 0 polls), then takes up to max items into out. Returns the count
 * taken; 0 on timeout; -ESHUTDOWN once closed and empty. */
int topic_take(struct topic *t, void **out, size_t max, int timeout_ms);

/* Wakes every waiter; publish fails from now on; take still drains what is
 * queued, then answers -ESHUTDOWN. */
void topic_close(struct topic *t);

void topic_stats(struct topic *t, struct topic_stats *out);

#endif
