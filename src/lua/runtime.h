/* lua/runtime — the Lua side of the pipeline: one runtime per worker thread,
 * holding one sandboxed lua_State per project (created lazily), which runs
 * the project's filter and fingerprint hooks and the default grouping
 * (lua/periscope/grouping.lua).
 *
 * Not thread-safe: each pipeline worker (and the notifier) owns its own
 * runtime. Script problems (error, timeout, memory cap, wrong return type)
 * never cost the event: the default behaviour is used, the error is logged
 * and counted per project and hook. */
#ifndef PERISCOPE_LUA_RUNTIME_H
#define PERISCOPE_LUA_RUNTIME_H

struct server;
struct ingest_event;
struct lua_runtime;

int lua_runtime_new(struct server *srv, struct lua_runtime **out);
void lua_runtime_free(struct lua_runtime *rt);

/* For a normalized event (ev->json): runs the project's filter (sets
 * ev->filtered), the grouping (default, or the project's fingerprint hook),
 * the hash, title and culprit into ev. Returns 0; negative only when even
 * the default grouping could not run (the caller then falls back to the C
 * grouping). */
int lua_runtime_process(struct lua_runtime *rt, struct ingest_event *ev);

#endif
