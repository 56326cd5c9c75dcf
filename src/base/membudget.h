/* membudget — a process-wide cap on the bytes ingest holds for requests
 * and the events they become: decoded bodies while they are read and
 * parsed, and each event's parsed tree and raw copy until the pipeline
 * worker has freed the tree. Whatever arrives, the memory these take
 * stays under the limit (INGEST_MEMORY_LIMIT): a request that would pass
 * it is refused (503 + Retry-After, or 413 when it alone is too big).
 *
 * Thread-safe (one atomic counter, no lock). The struct is owned by the
 * server and outlives every event that points to it. */
#ifndef PERISCOPE_MEMBUDGET_H
#define PERISCOPE_MEMBUDGET_H

#include <stdatomic.h>
#include <stddef.h>

struct membudget {
    atomic_size_t used;
    size_t limit; /* set once by membudget_init, read-only afterwards */
};

void membudget_init(struct membudget *b, size_t limit);

/* Takes bytes from the budget: 0, or -EAGAIN (nothing taken) when used +
 * bytes would pass the limit. */
int membudget_take(struct membudget *b, size_t bytes);

/* Gives back bytes taken earlier. */
void membudget_give(struct membudget *b, size_t bytes);

/* Bytes taken now (for metrics and tests). */
size_t membudget_used(const struct membudget *b);

#endif
