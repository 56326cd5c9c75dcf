/* worker — what a pipeline worker does to one event, on its own thread:
 * normalize → personal data scrubbing (scrub.h, then the project's scrub
 * hook) → project filter / grouping → zstd of the event's raw bytes when
 * scrubbing changed nothing; else (and for an event without raw bytes,
 * built in C) of its printed normalized tree, which normalizes on read to
 * itself. Nothing of the event is kept before it is scrubbed. Each worker
 * owns one struct worker_ctx (reused buffers).
 *
 * In: a struct raw_event (model/event.h), out: a struct grouped_event; the
 * cJSON tree ends here. */
#ifndef PERISCOPE_WORKER_H
#define PERISCOPE_WORKER_H

#include <stddef.h>

struct grouped_event;
struct pipeline_deps;
struct raw_event;
struct worker_ctx;

/* With deps (borrowed: deps->scripts, deps->cfg, each may be NULL), each worker runs the Lua
 * runtime (project filter, default or project grouping); deps NULL: the C fallback grouping only.
 */
int worker_ctx_new(const struct pipeline_deps *deps, struct worker_ctx **out);
void worker_ctx_free(struct worker_ctx *w);

/* Makes raw's grouped event for the writer: 0 with *out (caller's;
 * level, environment, release, timestamp_ms, hash, title, culprit,
 * payload, tags, message filled, or (*out)->filtered set) and raw's ack
 * moved into it, raw's tree and bytes freed and their budget given back
 * (raw_event_release; raw itself stays the caller's). Negative when the
 * event cannot be stored (also when it could not be scrubbed): *out NULL,
 * raw (and its ack) untouched. */
int worker_process(struct worker_ctx *w, struct raw_event *raw, struct grouped_event **out);

#endif
