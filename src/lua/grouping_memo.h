/* lua/grouping_memo — a pipeline worker's memo of the default grouping:
 * events of one issue repeat the same grouping input, so the hash, title
 * and culprit of an event seen before are looked up, not recomputed in Lua.
 *
 * The key is (project, script-registry generation, digest), the digest an
 * XXH3-128 (random per-process seed) of exactly what event_table_push
 * hands Lua — the same walk (lua/event_walk.h), each value typed and
 * length-prefixed so different trees cannot feed the same bytes. Only for
 * the default rules: the caller never uses it for a project script.
 *
 * Bounded: a fixed table of two-way buckets (clock eviction), each entry
 * holding at most GROUPING_MEMO_TEXT_MAX bytes of title and culprit
 * (longer results are not memoized). Hits and misses are counted in
 * periscope_grouping_memo_total{result=...}, flushed every 64 lookups.
 *
 * Not thread-safe: one memo per worker (inside its lua_runtime). */
#ifndef PERISCOPE_LUA_GROUPING_MEMO_H
#define PERISCOPE_LUA_GROUPING_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define GROUPING_MEMO_ENTRIES_DEFAULT 8192
#define GROUPING_MEMO_TEXT_MAX 1024

struct event_table_args;
struct grouping_memo;

struct grouping_memo_key {
    int64_t project_id;
    uint64_t generation;
    uint64_t lo, hi;
};

struct grouping_memo_stats {
    uint64_t hits, misses;
    size_t entries;  /* live entries now */
    size_t capacity; /* slots (entries rounded up to a power of two) */
};

/* entries >= 2. Returns 0 or -ENOMEM. */
int grouping_memo_new(size_t entries, struct grouping_memo **out);
void grouping_memo_free(struct grouping_memo *m);

/* Digests the event as args select it (borrowed) into key. */
void grouping_memo_key(struct grouping_memo *m, const struct event_table_args *args,
                       int64_t project_id, uint64_t generation, struct grouping_memo_key *key);

/* 1: found; hash copied, *title and *culprit fresh copies the caller owns.
 * 0: not there. -ENOMEM: found but could not copy (counted as a miss). */
int grouping_memo_get(struct grouping_memo *m, const struct grouping_memo_key *key, char hash[33],
                      char **title, char **culprit);

/* Remembers a result (copied); silently skipped when too long or out of
 * memory. */
void grouping_memo_put(struct grouping_memo *m, const struct grouping_memo_key *key,
                       const char hash[33], const char *title, const char *culprit);

void grouping_memo_stats(const struct grouping_memo *m, struct grouping_memo_stats *out);

#endif
