/* script_listener — keeps this node's scripts and DSN key cache in step
 * with the other nodes on the same Postgres: a thread with a connection of
 * its own LISTENs on periscope_scripts and periscope_keys
 * (store/scripts_notify.h). For a script change it reloads that project's
 * active script from the database (script_registry_reload_project); for a
 * key change (revocation, deleted project, new quota) it clears ingest's
 * key cache. After a lost connection it reconnects, clears the key cache
 * and reloads every project, since notifications sent meanwhile are gone.
 * Each wait is bounded (250 ms), so a change reaches this node well within
 * a second and stop is prompt.
 *
 * Started and stopped by main() only. With SQLite (one node) there is
 * nothing to listen to: start succeeds and returns no listener. */
#ifndef PERISCOPE_SCRIPT_LISTENER_H
#define PERISCOPE_SCRIPT_LISTENER_H

struct server;
struct script_listener;

/* srv->scripts must be open. *out is NULL on SQLite. Returns 0 or a
 * negative errno (the first connection could not be opened or LISTEN
 * failed). */
int script_listener_start(struct server *srv, struct script_listener **out);

/* Stops and joins the thread, closes its connection. NULL is fine. */
void script_listener_stop(struct script_listener *l);

#endif
