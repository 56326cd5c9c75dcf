/* counter_buffer_internal — the buffer's tables, shared by its memory half
 * (counter_buffer.c) and its SQL half (counters.c) only. */
#ifndef PERISCOPE_STORE_COUNTER_BUFFER_INTERNAL_H
#define PERISCOPE_STORE_COUNTER_BUFFER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/counters.h"

/* One buffered row: its key's bytes (issue id, project id, native order,
 * then the grouping hash and its NUL, then the table's part), the events
 * counted and the newest time seen. */
struct counter_row {
    uint64_t hash;
    int64_t count, last;
    size_t len;
    unsigned char key[];
};

struct counter_table {
    struct counter_row **rows; /* n rows, in insertion order */
    size_t n;
    uint32_t *slots; /* open addressing: index + 1 into rows, 0 empty */
    size_t mask;
};

struct counter_buffer {
    struct counter_table issues; /* key: prefix */
    struct counter_table tags;   /* key: prefix, tag key, NUL, value */
    struct counter_table hours;  /* key: prefix, hour start (ms) */
};

/* Forgets every row (after a flush committed). */
void counter_buffer_clear(struct counter_buffer *b);

/* The issue id and project id a row's key starts with, and the length
 * of its prefix (ids, hash, NUL). */
int64_t counter_row_issue(const struct counter_row *r);
int64_t counter_row_project(const struct counter_row *r);
size_t counter_row_prefix(const struct counter_row *r);

#endif
