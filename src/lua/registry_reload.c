/* lua/registry_reload — re-reading active scripts and scrubbing settings
 * from the store (start, SIGHUP, a NOTIFY from another node) and publishing
 * what changed. These scripts were validated when they were activated;
 * here they need only compile, since the built-in sample may not suit the
 * project (a hook reading tags it always has). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "model/scrub.h"
#include "lua/registry_internal.h"
#include "store/project_scrub.h"
#include "store/scripts.h"
#include "store/store.h"

struct active_list {
    struct active {
        int64_t project_id, version;
        char *source;
        size_t len;
    } * items;
    size_t n, cap;
};

static int collect_active(void *ctx, int64_t project_id, int64_t version, const char *source,
                          size_t len)
{
    struct active_list *list = ctx;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        struct active *items = realloc(list->items, cap * sizeof *items);
        if (!items) return -ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    char *copy = strndup(source, len);
    if (!copy) return -ENOMEM;
    list->items[list->n++] = (struct active){project_id, version, copy, len};
    return 0;
}

/* Takes mu: the project's current version (0 when none). */
static int64_t current_version(struct script_registry *reg, int64_t project_id)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    int64_t v = e ? e->version : 0;
    pthread_mutex_unlock(&reg->mu);
    return v;
}

static bool is_listed(const struct active_list *list, int64_t project_id)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].project_id == project_id) return true;
    return false;
}

/* The projects with settings of their own, as project_scrub_for_each
 * lists them. */
struct scrub_list {
    int64_t *ids;
    struct scrub_settings *settings;
    size_t n, cap;
};

static int collect_scrub(void *ctx, int64_t project_id, const struct scrub_settings *s)
{
    struct scrub_list *list = ctx;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        int64_t *ids = realloc(list->ids, cap * sizeof *ids);
        if (ids) list->ids = ids;
        struct scrub_settings *st = realloc(list->settings, cap * sizeof *st);
        if (st) list->settings = st;
        if (!ids || !st) return -ENOMEM;
        list->cap = cap;
    }
    list->ids[list->n] = project_id;
    list->settings[list->n++] = *s;
    return 0;
}

/* Publishes every project's scrubbing settings as the store has them; the
 * projects no longer listed go back to the defaults. */
static int reload_all_scrub(struct script_registry *reg)
{
    struct scrub_list list = {0};
    struct db *db = store_acquire(reg->store);
    int rc = project_scrub_for_each(db, collect_scrub, &list);
    store_release(reg->store, db);
    int published = 0;
    for (size_t i = 0; rc == 0 && i < list.n; i++) {
        int got = registry_publish_scrub(reg, list.ids[i], &list.settings[i]);
        if (got < 0) rc = got;
        published += got > 0;
    }
    struct scrub_settings defaults;
    scrub_settings_default(&defaults);
    for (size_t i = 0; rc == 0; i++) {
        int64_t pid = 0;
        pthread_mutex_lock(&reg->mu);
        bool more = i < reg->n;
        if (more) pid = reg->entries[i].scrub_key ? reg->entries[i].project_id : 0;
        pthread_mutex_unlock(&reg->mu);
        if (!more) break;
        bool listed = false;
        for (size_t k = 0; k < list.n && !listed; k++)
            listed = list.ids[k] == pid;
        if (pid && !listed) published += registry_publish_scrub(reg, pid, &defaults) > 0;
    }
    free(list.ids);
    free(list.settings);
    return rc < 0 ? rc : published;
}

/* One project's scrubbing settings as the store has them (the defaults
 * when the project is gone or a stored list no longer parses). */
static int reload_scrub(struct script_registry *reg, int64_t project_id)
{
    struct scrub_settings s;
    struct db *db = store_acquire(reg->store);
    int rc = project_scrub_get(db, project_id, &s);
    store_release(reg->store, db);
    if (rc == -EIO)
        log_error("stored scrubbing settings do not parse, the defaults apply", "project=%lld",
                  (long long)project_id);
    if (rc == -ENOENT || rc == -EIO) scrub_settings_default(&s), rc = 0;
    return rc ? rc : registry_publish_scrub(reg, project_id, &s);
}

int script_registry_reload_all(struct script_registry *reg)
{
    if (!reg->store) return 0;
    int scrubbed = reload_all_scrub(reg);
    if (scrubbed < 0) return scrubbed;
    struct active_list list = {0};
    struct db *db = store_acquire(reg->store);
    int rc = scripts_for_each_active(db, collect_active, &list);
    store_release(reg->store, db);
    int published = 0;
    for (size_t i = 0; rc == 0 && i < list.n; i++) {
        struct active *a = &list.items[i];
        if (current_version(reg, a->project_id) == a->version) continue;
        char *msg = NULL;
        int line = 0;
        if (registry_check_compiles(reg, a->source, a->len, &msg, &line) != 0) {
            log_error("stored script does not validate, running the default rules",
                      "project=%lld version=%lld line=%d error=%s", (long long)a->project_id,
                      (long long)a->version, line, msg ? msg : "");
            free(msg);
            continue;
        }
        if (registry_publish(reg, a->project_id, a->version, a->source, a->len) == 0) published++;
        a->source = NULL; /* publish took it */
    }
    /* Projects whose script was switched off elsewhere go back to default. */
    for (size_t i = 0; rc == 0; i++) {
        int64_t pid = 0;
        pthread_mutex_lock(&reg->mu);
        bool more = i < reg->n;
        if (more) pid = reg->entries[i].version > 0 ? reg->entries[i].project_id : 0;
        pthread_mutex_unlock(&reg->mu);
        if (!more) break;
        if (pid && !is_listed(&list, pid) && registry_publish(reg, pid, 0, NULL, 0) == 0)
            published++;
    }
    for (size_t i = 0; i < list.n; i++)
        free(list.items[i].source);
    free(list.items);
    if (rc < 0) return rc;
    rc = registry_reload_rules(reg, 0);
    return rc < 0 ? rc : published + rc + scrubbed;
}

int script_registry_reload_project(struct script_registry *reg, int64_t project_id)
{
    if (!reg->store) return 0;
    int scrubbed = reload_scrub(reg, project_id);
    if (scrubbed < 0) return scrubbed;
    int64_t version = 0;
    char *source = NULL;
    size_t len = 0;
    struct db *db = store_acquire(reg->store);
    int rc = scripts_get_active(db, project_id, &version, &source, &len);
    store_release(reg->store, db);
    if (rc == -ENOENT) /* the project is gone: nothing of it runs any more */
        version = 0, rc = 0;
    if (rc != 0) return rc;
    int rules = registry_reload_rules(reg, project_id);
    if (rules < 0) {
        free(source);
        return rules;
    }
    if (current_version(reg, project_id) == version) {
        free(source);
        return rules > 0 || scrubbed > 0;
    }
    if (version > 0) {
        char *msg = NULL;
        int line = 0;
        if (registry_check_compiles(reg, source, len, &msg, &line) != 0) {
            log_error("stored script does not validate, keeping the running one",
                      "project=%lld version=%lld line=%d error=%s", (long long)project_id,
                      (long long)version, line, msg ? msg : "");
            free(msg);
            free(source);
            return -EINVAL;
        }
    }
    rc = registry_publish(reg, project_id, version, source, len);
    return rc == 0 ? 1 : rc;
}
