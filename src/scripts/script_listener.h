/* script_listener — keeps this node's scripts and DSN key cache in step
 * with the other nodes on the same Postgres: a thread with a connection of
 * its own LISTENs on periscope_scripts and periscope_keys
 * (store/scripts_notify.h). For a script change it reloads that project's
 * active script from the database (script_registry_reload_project); for a
 * key change (revocation, deleted project, new quota) it calls
 * forget_keys (the application clears ingest's key cache there). After a lost connection it
 * reconnects, clears the key cache and reloads every project, since notifications sent meanwhile
 * are gone. Each wait is bounded (250 ms), so a change reaches this node well within a second and
 * stop is prompt.
 *
 * Started and stopped by main() only. With SQLite (one node) there is
 * nothing to listen to: start succeeds and returns no listener. */
#ifndef PERISCOPE_SCRIPT_LISTENER_H
#define PERISCOPE_SCRIPT_LISTENER_H

struct config;
struct script_listener;
struct script_registry;

/* Called on the listener's thread whenever DSN keys may have changed. */
typedef void (*script_listener_keys_fn)(void *ctx);

/* cfg (the database settings) and scripts (open) are borrowed and outlive
 * the listener; forget_keys (may be NULL) is called with keys_ctx. *out is
 * NULL on SQLite. Returns 0 or a negative errno (the first connection could
 * not be opened or LISTEN failed). */
int script_listener_start(const struct config *cfg, struct script_registry *scripts,
                          script_listener_keys_fn forget_keys, void *keys_ctx,
                          struct script_listener **out);

/* Stops and joins the thread, closes its connection. NULL is fine. */
void script_listener_stop(struct script_listener *l);

#endif
