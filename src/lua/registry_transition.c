/* lua/registry — grouping transitions (README "Grouping transitions"): the
 * previous grouping recorded before a project's script or rules change,
 * the start-up check of the default grouping config, and what a worker
 * reads when it builds a project's state. See registry.h. */
#include "lua/registry.h"

#include <errno.h>

#include "base/clock.h"
#include "grouping/config.h"
#include "base/log.h"
#include "lua/registry_internal.h"
#include "store/grouping_transitions.h"
#include "store/store.h"

void registry_begin_transition(struct script_registry *reg, int64_t project_id)
{
    struct db *db = store_acquire(reg->store);
    int rc = grouping_transition_begin(db, project_id, clock_wall_ms());
    store_release(reg->store, db);
    /* The change goes ahead: without a transition its new hashes make new
     * issues, as before transitions existed. */
    if (rc != 0)
        log_warn("grouping transition not recorded", "project=%lld error=%d", (long long)project_id,
                 rc);
}

int registry_check_grouping_config(struct script_registry *reg)
{
    if (!reg->store) return 0;
    int started = 0;
    struct db *db = store_acquire(reg->store);
    int rc = grouping_transition_config_check(db, GROUPING_CONFIG_ID, clock_wall_ms(), &started);
    store_release(reg->store, db);
    if (rc == 0 && started > 0)
        log_info("default grouping changed: transitions begun", "projects=%d config=%s", started,
                 GROUPING_CONFIG_ID);
    /* Not fatal: the server runs, new hashes make new issues. */
    if (rc != 0) log_error("default grouping config not checked", "error=%d", rc);
    return 0;
}

int script_registry_transition(struct script_registry *reg, int64_t project_id, int64_t now_ms,
                               struct grouping_transition *out)
{
    if (!reg->store) return -ENOENT;
    struct db *db = store_acquire(reg->store);
    int rc = grouping_transition_get(db, project_id, now_ms, out);
    store_release(reg->store, db);
    return rc;
}
