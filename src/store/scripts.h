/* store/scripts — versioned project scripts (SQL for both backends).
 *
 * A project's scripts are numbered 1, 2, … in the order they were stored;
 * projects.active_script_version points at the one that runs (NULL: the
 * default rules). Functions take a connection the caller holds and return
 * 0 or a negative errno (-ENOENT: no such project or version). */
#ifndef PERISCOPE_STORE_SCRIPTS_H
#define PERISCOPE_STORE_SCRIPTS_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

/* Stores source as the project's next version (not activated). -EEXIST
 * when a concurrent writer took the same number: retry. */
int scripts_create_version(struct db *db, int64_t project_id, const char *source, size_t len,
                           int64_t *version_out);

/* One version's source. *source_out is malloc'd (caller frees). */
int scripts_get_version(struct db *db, int64_t project_id, int64_t version, char **source_out,
                        size_t *len_out);

/* The active version (0 and *source_out NULL when the project runs the
 * default rules). -ENOENT when the project does not exist. */
int scripts_get_active(struct db *db, int64_t project_id, int64_t *version_out, char **source_out,
                       size_t *len_out);

/* Points the project at version (0: back to the default rules). -ENOENT
 * when the project or the version does not exist. */
int scripts_set_active(struct db *db, int64_t project_id, int64_t version);

/* [{"version", "created_at", "size", "active"}], newest first. */
int scripts_list_versions(struct db *db, int64_t project_id, cJSON **out);

/* Calls fn for every project with an active script. Stops early and
 * returns fn's value when it is not 0. The source is borrowed for the call. */
typedef int (*scripts_active_fn)(void *ctx, int64_t project_id, int64_t version, const char *source,
                                 size_t len);
int scripts_for_each_active(struct db *db, scripts_active_fn fn, void *ctx);

#endif
