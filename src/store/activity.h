/* activity — the record of who changed what through the API (SQL for both
 * backends): one row per change, with the actor (a user, a token or the
 * root key), the time, the project, the target and a short JSON of what
 * changed. Rows outlive what they name (no foreign keys).
 *
 * Functions take a connection the caller holds; 0 or a negative errno.
 * Rows come out as {"id", "at" (ms), "actor": {"type", "id", "name"},
 * "project_id", "action", "target": {"type", "id"}, "changes"}, newest
 * first. */
#ifndef PERISCOPE_STORE_ACTIVITY_H
#define PERISCOPE_STORE_ACTIVITY_H

#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

#define ACTIVITY_CHANGES_MAX 4096 /* bytes of the changes JSON */

struct activity_entry {
    const char *actor_type; /* "user" | "token" | "root" */
    int64_t actor_id;       /* 0: none */
    const char *actor_name;
    int64_t project_id; /* 0: none */
    const char *action;
    const char *target_type; /* may be NULL */
    const char *target_id;   /* may be NULL */
    const cJSON *changes;    /* may be NULL ({}); cut to a marker past ACTIVITY_CHANGES_MAX */
};

int activity_add(struct db *db, const struct activity_entry *e);

/* What to list: a project's rows (project_id > 0) or everyone's, only one
 * target's (target_type and target_id set), with id < before_id (0: from
 * the newest), at most limit. */
struct activity_query {
    int64_t project_id;
    const char *target_type, *target_id;
    int64_t before_id;
    int limit;
};

int activity_list(struct db *db, const struct activity_query *q, cJSON **out);

#endif
