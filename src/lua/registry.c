/* lua/registry — the table of active scripts per project and their
 * publication (generations), activation, open and close. Reloading from
 * the store is registry_reload.c, validation registry_validate.c, error
 * stats and counters registry_stats.c. */
#include "lua/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "model/scrub.h"
#include "base/config.h"
#include "lua/grouping_memo.h"
#include "lua/registry_internal.h"
#include "store/scripts.h"
#include "store/store.h"

struct entry *registry_find_entry(struct script_registry *reg, int64_t project_id, bool create)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->entries[i].project_id == project_id) return &reg->entries[i];
    if (!create) return NULL;
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        struct entry *e = realloc(reg->entries, cap * sizeof *e);
        if (!e) return NULL;
        reg->entries = e;
        reg->cap = cap;
    }
    struct script_counters *counters = calloc(1, sizeof *counters);
    if (!counters) return NULL;
    struct entry *e = &reg->entries[reg->n++];
    memset(e, 0, sizeof *e);
    e->project_id = project_id;
    e->counters = counters;
    return e;
}

/* Under mu: the stats count from this publication on. */
static void reset_stats(struct entry *e)
{
    memset(e->errors, 0, sizeof e->errors);
    e->has_last = false;
    e->activated_ms = clock_wall_ms();
    for (size_t i = 0; i < SCRIPT_COUNT_N; i++)
        atomic_store_explicit(&e->counters->n[i], 0, memory_order_relaxed);
}

int registry_publish(struct script_registry *reg, int64_t project_id, int64_t version, char *source,
                     size_t len)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, true);
    if (!e) {
        pthread_mutex_unlock(&reg->mu);
        free(source);
        return -ENOMEM;
    }
    free(e->source);
    e->version = version;
    e->source = source;
    e->len = len;
    reset_stats(e);
    e->generation = atomic_fetch_add(&reg->generation, 1) + 1;
    pthread_mutex_unlock(&reg->mu);
    log_info("script published", "project=%lld version=%lld", (long long)project_id,
             (long long)version);
    return 0;
}

/* The settings as one string (NULL for the defaults), to tell a change. */
static char *scrub_key(const struct scrub_settings *s)
{
    struct scrub_settings d;
    scrub_settings_default(&d);
    if (scrub_settings_equal(s, &d)) return NULL;
    char sensitive[SCRUB_LIST_TEXT_MAX], safe[SCRUB_LIST_TEXT_MAX];
    scrub_list_join(s->sensitive, s->n_sensitive, sensitive);
    scrub_list_join(s->safe, s->n_safe, safe);
    char *key = NULL;
    if (asprintf(&key, "%d%d;%s;%s", s->enabled, s->scrub_ip_addresses, sensitive, safe) < 0)
        return NULL;
    return key;
}

static bool same_key(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int registry_publish_scrub(struct script_registry *reg, int64_t project_id,
                           const struct scrub_settings *s)
{
    struct scrub_settings d;
    scrub_settings_default(&d);
    bool is_default = scrub_settings_equal(s, &d);
    char *key = scrub_key(s);
    if (!is_default && !key) return -ENOMEM;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, !is_default);
    bool unchanged = e ? same_key(e->scrub_key, key) : is_default;
    pthread_mutex_unlock(&reg->mu);
    if (unchanged) {
        free(key);
        return 0;
    }
    /* Built outside the lock; the default rules are shared, not built. */
    struct scrub_rules *rules = NULL;
    int rc = is_default ? 0 : scrub_rules_new(s, &rules);
    if (rc != 0) {
        free(key);
        return rc;
    }
    pthread_mutex_lock(&reg->mu);
    e = registry_find_entry(reg, project_id, true);
    if (e) {
        scrub_rules_unref(e->scrub);
        free(e->scrub_key);
        e->scrub = rules;
        e->scrub_key = key;
        e->scrub_generation = atomic_fetch_add(&reg->generation, 1) + 1;
        rules = NULL;
        key = NULL;
    }
    pthread_mutex_unlock(&reg->mu);
    scrub_rules_unref(rules);
    free(key);
    if (!e) return -ENOMEM;
    log_info("scrubbing settings published",
             "project=%lld enabled=%d scrub_ip_addresses=%d "
             "sensitive_fields=%zu safe_fields=%zu",
             (long long)project_id, s->enabled, s->scrub_ip_addresses, s->n_sensitive, s->n_safe);
    return 1;
}

struct scrub_rules *script_registry_scrub(struct script_registry *reg, int64_t project_id,
                                          uint64_t *generation)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    struct scrub_rules *r = e && e->scrub ? scrub_rules_ref(e->scrub) : NULL;
    *generation = e ? e->scrub_generation : 0;
    pthread_mutex_unlock(&reg->mu);
    return r ? r : scrub_rules_ref(scrub_rules_default());
}

struct grouping_memo *script_registry_memo(struct script_registry *reg)
{
    return reg->memo;
}

const struct vm_limits *script_registry_limits(const struct script_registry *reg)
{
    return &reg->limits;
}

uint64_t script_registry_generation(struct script_registry *reg)
{
    return atomic_load_explicit(&reg->generation, memory_order_acquire);
}

int script_registry_get(struct script_registry *reg, int64_t project_id, int64_t *version,
                        char **source, size_t *len, uint64_t *generation)
{
    int rc = 0;
    *version = 0;
    *source = NULL;
    *len = 0;
    *generation = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    if (e && e->source) {
        *source = malloc(e->len + 1);
        if (*source) {
            memcpy(*source, e->source, e->len + 1);
            *version = e->version;
            *len = e->len;
        } else {
            rc = -ENOMEM;
        }
    }
    if (e) *generation = e->generation;
    pthread_mutex_unlock(&reg->mu);
    return rc;
}

int script_registry_activate(struct script_registry *reg, int64_t project_id, int64_t version,
                             char **error_message, int *error_line)
{
    return script_registry_activate_on(reg, project_id, version, NULL, error_message, error_line);
}

int script_registry_activate_on(struct script_registry *reg, int64_t project_id, int64_t version,
                                const cJSON *sample_event, char **error_message, int *error_line)
{
    if (error_message) *error_message = NULL;
    if (error_line) *error_line = 0;
    if (!reg->store) return -EIO;
    char *source = NULL;
    size_t len = 0;
    int rc = 0;
    if (version > 0) {
        struct db *db = store_acquire(reg->store);
        rc = scripts_get_version(db, project_id, version, &source, &len);
        store_release(reg->store, db);
        if (rc != 0) return rc;
        rc = script_registry_validate(reg, source, len, sample_event, error_message, error_line);
        if (rc != 0) goto fail;
    }
    registry_begin_transition(reg, project_id);
    struct db *db = store_acquire(reg->store);
    rc = scripts_set_active(db, project_id, version);
    store_release(reg->store, db);
    if (rc != 0) goto fail;
    return registry_publish(reg, project_id, version, source, len);
fail:
    free(source);
    return rc;
}

int script_registry_open(struct store *store, const struct config *cfg,
                         struct script_registry **out)
{
    struct script_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return -ENOMEM;
    pthread_mutex_init(&reg->mu, NULL);
    reg->store = store;
    reg->public_url = cfg ? cfg->public_url : NULL;
    vm_limits_from_config(cfg, &reg->limits);
    int rc = grouping_memo_new(GROUPING_MEMO_ENTRIES_DEFAULT, &reg->memo);
    if (rc == 0) rc = registry_check_grouping_config(reg);
    if (rc == 0) rc = script_registry_reload_all(reg);
    if (rc < 0) {
        script_registry_close(reg);
        return rc;
    }
    *out = reg;
    return 0;
}

void script_registry_set_format_check(struct script_registry *reg, script_format_check_fn fn)
{
    reg->format_check = fn;
}

void script_registry_close(struct script_registry *reg)
{
    if (!reg) return;
    for (size_t i = 0; i < reg->n; i++) {
        free(reg->entries[i].source);
        free(reg->entries[i].fingerprint_rules);
        free(reg->entries[i].stacktrace_rules);
        free(reg->entries[i].counters);
        scrub_rules_unref(reg->entries[i].scrub);
        free(reg->entries[i].scrub_key);
    }
    free(reg->entries);
    grouping_memo_free(reg->memo);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}
