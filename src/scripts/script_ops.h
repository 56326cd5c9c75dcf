/* script_ops — what the admin script endpoints do, apart from HTTP:
 * replace a project's script (validate against a sample event in a fresh
 * state, store a new version, activate it, tell the other nodes), roll back
 * to a stored version, go back to the default rules, and describe the
 * active script with its live stats.
 *
 * Any thread (the admin API's HTTP threads); the store is reached through
 * store_acquire/store_release and the registry is thread-safe. A rejected
 * script changes nothing that runs: the old one keeps serving. Every
 * function takes the store and the registry it uses (borrowed). */
#ifndef PERISCOPE_SCRIPT_OPS_H
#define PERISCOPE_SCRIPT_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/json.h"

struct script_registry;
struct store;

/* Why a script was refused (script_invalid): message is malloc'd (caller
 * frees with script_ops_rejection_clear); line 0 when no line applies. */
struct script_rejection {
    char *message;
    int line;
};
void script_ops_rejection_clear(struct script_rejection *r);

/* Validates source by running every hook on sample (borrowed; NULL: the
 * built-in sample), then stores it as the next version and activates it.
 * Returns 0 with *version; -ENOENT (no such project); -EINVAL with *why;
 * or another negative errno. */
int script_ops_put(struct store *store, struct script_registry *scripts, int64_t project_id,
                   const char *source, size_t len, const cJSON *sample, int64_t *version,
                   struct script_rejection *why);

/* Activates a stored version (0: the default rules), validating it on
 * sample (borrowed; NULL: the built-in one). -ENOENT (no such project or
 * version), -EINVAL with *why, or another negative errno. */
int script_ops_activate(struct store *store, struct script_registry *scripts, int64_t project_id,
                        int64_t version, const cJSON *sample, struct script_rejection *why);

/* After a change of the project's scrubbing settings in the store: this
 * node's registry re-reads them (workers switch on their next event) and
 * the other nodes are told to. 0 or a negative errno (the change is
 * stored either way; a node that missed it reloads on SIGHUP). */
int script_ops_project_changed(struct store *store, struct script_registry *scripts,
                               int64_t project_id);

/* {"project_id", "version" | null, "source" | null, "created_at" | null,
 *  "stats": script_registry_stats()}. -ENOENT for no such project.
 * Caller owns *out. */
int script_ops_status(struct store *store, struct script_registry *scripts, int64_t project_id,
                      cJSON **out);

/* {"data": [{"version", "created_at", "size", "active"}, …]} newest first.
 * -ENOENT for no such project. Caller owns *out. */
int script_ops_versions(struct store *store, int64_t project_id, cJSON **out);

/* Checks (compiled in a fresh state), stores and publishes the project's
 * grouping rules in Sentry's syntax, then tells the other nodes. Returns 0;
 * -ENOENT (no such project); -EINVAL with *why (malloc'd, caller frees);
 * or another negative errno. */
int script_ops_put_rules(struct store *store, struct script_registry *scripts, int64_t project_id,
                         const char *fingerprint, const char *stacktrace, char **why);

/* {"project_id", "fingerprint_rules", "stacktrace_rules", "updated_at" (ms)
 * | null, "grouping_config" (GROUPING_CONFIG_ID)}. -ENOENT for no such project. Caller owns *out.
 */
int script_ops_get_rules(struct store *store, int64_t project_id, cJSON **out);

#endif
