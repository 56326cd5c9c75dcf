/* lua/grouping_memo — the process's memo of the default grouping: events of
 * one issue repeat the same grouping input, so the hash, title and culprit
 * of an input seen before — by any pipeline worker — are looked up, not
 * recomputed in Lua (a hit costs ~3 µs, a Lua grouping ~33 µs).
 *
 * The key is (project, script-registry generation, digest), the digest an
 * XXH3-128 (random per-process seed) of exactly what event_table_push
 * hands Lua — the same walk (lua/event_walk.h), each value typed and
 * length-prefixed so different trees cannot feed the same bytes. Only for
 * the default rules: the caller never uses it for a project script.
 *
 * Owner: the script registry (lua/registry.h) builds one at open and frees
 * it at close, after the pipeline workers stopped; every worker's
 * runtime borrows it (script_registry_memo), so one worker's result
 * serves the others and the generations in the keys are that registry's.
 * A runtime without a registry, or given its own by runtime_set_memo,
 * owns a private one.
 *
 * Bounded: a fixed table of four-way buckets (clock eviction; entries of
 * another generation go first). An entry is a 48-byte slot plus one
 * allocation "hash title\0culprit\0" with at most GROUPING_MEMO_TEXT_MAX
 * bytes of text (longer results are not memoized). The allocations are
 * charged at their allocator size against a budget of
 * GROUPING_MEMO_TEXT_BUDGET_PER_SLOT bytes a slot; a put that would exceed
 * it first evicts unused entries of its stripe (a clock over the stripe).
 * The default, 262,144 slots, is 12 MiB of slots (all touched once keys
 * spread) plus at most 20 MiB of text: 32 MiB when full. Measured with the
 * bench's events (title 82 + culprit 31 bytes: a 147-byte block, a
 * 160-byte allocator chunk): 100,000 distinct groupings keep 98.2 %
 * resident (4-way buckets at 100k/262k load) in 27 MiB of RSS, 12 MiB of
 * slots and 15 MiB of text; the budget would hold ~131,000 such entries.
 *
 * Thread-safe: 64 striped mutexes (chosen by the digest's bucket bits). A
 * hit copies the result out under its stripe's lock (never a pointer into
 * an entry, which a put may evict); the copies are allocated after it.
 * Hits and misses are counted per stripe (relaxed atomics, for
 * grouping_memo_stats) and per thread for
 * periscope_grouping_memo_total{result=...}, flushed every 64 lookups
 * and by grouping_memo_flush_counts. */
#ifndef PERISCOPE_LUA_GROUPING_MEMO_H
#define PERISCOPE_LUA_GROUPING_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define GROUPING_MEMO_ENTRIES_DEFAULT 262144
#define GROUPING_MEMO_TEXT_MAX 1024
#define GROUPING_MEMO_TEXT_BUDGET_PER_SLOT 80

struct event_table_args;
struct grouping_memo;

struct grouping_memo_key {
    int64_t project_id;
    uint64_t generation;
    uint64_t lo, hi;
};

struct grouping_memo_stats {
    uint64_t hits, misses;
    size_t entries;    /* live entries now */
    size_t capacity;   /* slots (entries rounded up to a power of two, at least 4) */
    size_t text_bytes; /* allocator bytes of the live entries' text */
};

/* entries >= 2. Returns 0 or -ENOMEM. Any thread. */
int grouping_memo_new(size_t entries, struct grouping_memo **out);
/* Only once no other thread uses m any more. Flushes the calling thread's
 * pending metric counts. */
void grouping_memo_free(struct grouping_memo *m);

/* Digests the event as args select it (borrowed) into key. No memo state:
 * the key is the same for every memo of the process; any thread,
 * concurrently. */
void grouping_memo_key(const struct event_table_args *args, int64_t project_id, uint64_t generation,
                       struct grouping_memo_key *key);

/* 1: found; hash copied, *title and *culprit fresh copies the caller owns.
 * 0: not there. -ENOMEM: found but could not copy (counted as a miss).
 * Any thread. */
int grouping_memo_get(struct grouping_memo *m, const struct grouping_memo_key *key, char hash[33],
                      char **title, char **culprit);

/* Remembers a result (copied); silently skipped when too long or out of
 * memory. Any thread. */
void grouping_memo_put(struct grouping_memo *m, const struct grouping_memo_key *key,
                       const char hash[33], const char *title, const char *culprit);

/* A snapshot across stripes (each read under its lock). Any thread. */
void grouping_memo_stats(const struct grouping_memo *m, struct grouping_memo_stats *out);

/* Adds the calling thread's pending hit and miss counts (fewer than 64) to
 * the metric; a thread that looked things up calls it before it ends. */
void grouping_memo_flush_counts(void);

#endif
