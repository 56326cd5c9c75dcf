/* script_ops — put, activate (rollback, reset) and status of project scripts. */
#include "scripts/script_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "grouping/config.h"
#include "lua/registry.h"
#include "store/grouping_rules.h"
#include "store/scripts.h"
#include "store/scripts_notify.h"
#include "store/store.h"

#define CREATE_VERSION_ATTEMPTS 5 /* concurrent PUTs racing for the next number */

void script_ops_rejection_clear(struct script_rejection *r)
{
    free(r->message);
    r->message = NULL;
    r->line = 0;
}

/* -ENOENT when the project does not exist. */
static int project_exists(struct store *store, int64_t project_id)
{
    int64_t version;
    char *source = NULL;
    struct db *db = store_acquire(store);
    int rc = scripts_get_active(db, project_id, &version, &source, NULL);
    store_release(store, db);
    free(source);
    return rc;
}

/* Every node reloads the project's active script from the database. */
static void tell_other_nodes(struct store *store, int64_t project_id)
{
    struct db *db = store_acquire(store);
    int rc = scripts_notify_changed(db, project_id);
    store_release(store, db);
    if (rc != 0)
        log_error("could not notify other nodes of a script change; they reload on SIGHUP",
                  "project=%lld error=%s", (long long)project_id, strerror(-rc));
}

int script_ops_project_changed(struct store *store, struct script_registry *scripts,
                               int64_t project_id)
{
    int rc = script_registry_reload_project(scripts, project_id);
    if (rc < 0 && rc != -EINVAL) /* -EINVAL (a stored script that no longer compiles) is logged */
        log_error("project reload failed", "project=%lld error=%s", (long long)project_id,
                  strerror(-rc));
    tell_other_nodes(store, project_id);
    return rc < 0 ? rc : 0;
}

int script_ops_activate(struct store *store, struct script_registry *scripts, int64_t project_id,
                        int64_t version, const cJSON *sample, struct script_rejection *why)
{
    why->message = NULL;
    why->line = 0;
    int rc = script_registry_activate_on(scripts, project_id, version, sample, &why->message,
                                         &why->line);
    if (rc != 0) return rc;
    log_info("script activated", "project=%lld version=%lld", (long long)project_id,
             (long long)version);
    tell_other_nodes(store, project_id);
    return 0;
}

int script_ops_put(struct store *store, struct script_registry *scripts, int64_t project_id,
                   const char *source, size_t len, const cJSON *sample, int64_t *version,
                   struct script_rejection *why)
{
    why->message = NULL;
    why->line = 0;
    int rc = project_exists(store, project_id);
    if (rc != 0) return rc;
    rc = script_registry_validate(scripts, source, len, sample, &why->message, &why->line);
    if (rc != 0) return rc;
    rc = -EEXIST;
    for (int i = 0; rc == -EEXIST && i < CREATE_VERSION_ATTEMPTS; i++) {
        struct db *db = store_acquire(store);
        rc = scripts_create_version(db, project_id, source, len, version);
        store_release(store, db);
    }
    if (rc != 0) return rc;
    return script_ops_activate(store, scripts, project_id, *version, sample, why);
}

/* The created_at of version in a scripts_list_versions() list, or null. */
static cJSON *created_at_of(const cJSON *versions, int64_t version)
{
    size_t i;
    cJSON *row;
    json_array_each(versions, i, row)
    {
        if (json_i64(json_get(row, "version")) == version)
            return json_dup(json_get(row, "created_at"));
    }
    return cJSON_CreateNull();
}

int script_ops_status(struct store *store, struct script_registry *scripts, int64_t project_id,
                      cJSON **out)
{
    int64_t version = 0;
    char *source = NULL;
    size_t len = 0;
    cJSON *versions = NULL, *stats = NULL;
    struct db *db = store_acquire(store);
    int rc = scripts_get_active(db, project_id, &version, &source, &len);
    if (rc == 0) rc = scripts_list_versions(db, project_id, &versions);
    store_release(store, db);
    if (rc == 0) rc = script_registry_stats(scripts, project_id, &stats);
    if (rc != 0) goto fail;
    cJSON *src = source ? json_new_strn(source, len) : cJSON_CreateNull();
    *out =
        json_build("{s:I, s:o, s:o, s:o, s:o}", "project_id", (int64_t)project_id, "version",
                   version ? json_new_int(version) : cJSON_CreateNull(), "source",
                   src ? src : cJSON_CreateNull(), "created_at",
                   version ? created_at_of(versions, version) : cJSON_CreateNull(), "stats", stats);
    stats = NULL;
    rc = *out ? 0 : -ENOMEM;
fail:
    cJSON_Delete(stats);
    cJSON_Delete(versions);
    free(source);
    return rc;
}

int script_ops_versions(struct store *store, int64_t project_id, cJSON **out)
{
    int rc = project_exists(store, project_id);
    if (rc != 0) return rc;
    cJSON *list = NULL;
    struct db *db = store_acquire(store);
    rc = scripts_list_versions(db, project_id, &list);
    store_release(store, db);
    if (rc != 0) return rc;
    *out = json_build("{s:o, s:n}", "data", list, "next_cursor");
    return *out ? 0 : -ENOMEM;
}

int script_ops_put_rules(struct store *store, struct script_registry *scripts, int64_t project_id,
                         const char *fingerprint, const char *stacktrace, char **why)
{
    int rc = script_registry_set_rules(scripts, project_id, fingerprint, stacktrace, why);
    if (rc != 0) return rc;
    log_info("grouping rules changed", "project=%lld", (long long)project_id);
    tell_other_nodes(store, project_id);
    return 0;
}

int script_ops_get_rules(struct store *store, int64_t project_id, cJSON **out)
{
    int rc = project_exists(store, project_id);
    if (rc != 0) return rc;
    char *fp = NULL, *st = NULL;
    int64_t updated = 0;
    struct db *db = store_acquire(store);
    rc = grouping_rules_get(db, project_id, &fp, &st, &updated);
    store_release(store, db);
    if (rc != 0 && rc != -ENOENT) return rc;
    *out = json_build("{s:I, s:s, s:s, s:o, s:s}", "project_id", (int64_t)project_id,
                      "fingerprint_rules", fp ? fp : "", "stacktrace_rules", st ? st : "",
                      "updated_at", rc == 0 ? json_new_int(updated) : cJSON_CreateNull(),
                      "grouping_config", GROUPING_CONFIG_ID);
    free(fp);
    free(st);
    return *out ? 0 : -ENOMEM;
}
