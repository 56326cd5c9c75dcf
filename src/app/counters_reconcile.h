/* counters_reconcile — at start-up, before the pipeline runs: the counts
 * of the node's events stored after its last counter flush (a crash lost
 * them with the in-memory buffer, store/counters.h) are added again, so
 * issue counts, last seen, tag counts and the hourly counts end exact.
 *
 * Tags are extracted from each event as the pipeline worker did: its
 * stored payload normalized again (scripts/event_stored.h) gives the tree
 * the worker took them from. Main thread, on the writer's connection. */
#ifndef PERISCOPE_COUNTERS_RECONCILE_H
#define PERISCOPE_COUNTERS_RECONCILE_H

#include <stdint.h>

struct db;

/* 0 with *events the number of events counted again, or negative. */
int counters_reconcile(struct db *db, int node_id, int64_t *events);

#endif
