/* worker — what a pipeline worker does to one event, on its own thread:
 * normalize → personal data scrubbing (scrub.h, then the project's scrub
 * hook) → project filter / grouping → zstd of the event's raw bytes when
 * scrubbing changed nothing; else (and for an event without raw bytes,
 * built in C) of its printed normalized tree, which normalizes on read to
 * itself. Nothing of the event is kept before it is scrubbed. Each worker
 * owns one struct worker_ctx (reused buffers); events are owned by the
 * caller throughout. */
#ifndef PERISCOPE_WORKER_H
#define PERISCOPE_WORKER_H

#include <stddef.h>

struct ingest_event;
struct pipeline_deps;
struct worker_ctx;

/* With deps (borrowed: deps->scripts, deps->cfg, deps->events_queued_bytes,
 * each may be NULL), each worker runs the Lua runtime (project filter,
 * default or project grouping); deps NULL: the C fallback grouping only. */
int worker_ctx_new(const struct pipeline_deps *deps, struct worker_ctx **out);
void worker_ctx_free(struct worker_ctx *w);

/* Prepares ev for the writer: fills level, environment, release,
 * timestamp_ms, hash, title, culprit, payload, payload_len, or sets
 * ev->filtered. Frees ev->json once it is compressed (the writer never
 * reads it). 0, or negative when the event cannot be stored (also when it
 * could not be scrubbed). */
int worker_process(struct worker_ctx *w, struct ingest_event *ev);

#endif
