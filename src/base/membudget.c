/* membudget — the ingest memory cap (membudget.h). */
#include "base/membudget.h"

#include <assert.h>
#include <errno.h>

void membudget_init(struct membudget *b, size_t limit)
{
    atomic_init(&b->used, 0);
    b->limit = limit;
}

int membudget_take(struct membudget *b, size_t bytes)
{
    size_t cur = atomic_load(&b->used);
    do {
        if (bytes > b->limit || cur > b->limit - bytes) return -EAGAIN;
    } while (!atomic_compare_exchange_weak(&b->used, &cur, cur + bytes));
    return 0;
}

void membudget_give(struct membudget *b, size_t bytes)
{
    size_t before = atomic_fetch_sub(&b->used, bytes);
    assert(before >= bytes);
    (void)before;
}

size_t membudget_used(const struct membudget *b)
{
    return atomic_load(&b->used);
}
