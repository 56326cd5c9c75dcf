/* lua/registry_stats — per-project script error counts (by hook and kind),
 * the last error, the live counters the workers bump without a lock, and
 * the stats object the admin API shows. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "lua/registry_internal.h"

#define LOG_INTERVAL_MS 1000

static const char *const HOOKS[] = {"filter", "fingerprint", "format", "scrub",
                                    "alert",  "grouping",    "event",  "load"};
_Static_assert(sizeof HOOKS / sizeof HOOKS[0] == REGISTRY_NHOOKS, "REGISTRY_NHOOKS");

static size_t hook_index(const char *hook)
{
    for (size_t i = 0; i < REGISTRY_NHOOKS; i++)
        if (strcmp(HOOKS[i], hook) == 0) return i;
    return REGISTRY_NHOOKS - 1;
}

void script_registry_record_error(struct script_registry *reg, int64_t project_id, const char *hook,
                                  const struct vm_error *err)
{
    size_t h = hook_index(hook);
    size_t k = err->kind < REGISTRY_NKINDS ? (size_t)err->kind : VM_ERROR_RUNTIME;
    long long now = clock_wall_ms();
    bool log_it = false;
    uint64_t count = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, true);
    if (e) {
        count = ++e->errors[h][k];
        e->has_last = true;
        e->last.hook = HOOKS[h];
        e->last.kind = err->kind;
        e->last.line = err->line;
        e->last.at_ms = now;
        snprintf(e->last.message, sizeof e->last.message, "%s", err->message);
        if (now - e->last_log_ms[h] >= LOG_INTERVAL_MS) {
            e->last_log_ms[h] = now;
            log_it = true;
        }
    }
    pthread_mutex_unlock(&reg->mu);

    char labels[128];
    snprintf(labels, sizeof labels, "project=\"%lld\",hook=\"%s\",kind=\"%s\"",
             (long long)project_id, HOOKS[h], vm_error_kind_name(err->kind));
    metrics_add("periscope_script_errors_total", labels, 1);
    if (log_it)
        log_warn("script error, default used",
                 "project=%lld hook=%s kind=%s line=%d count=%llu error=%s", (long long)project_id,
                 HOOKS[h], vm_error_kind_name(err->kind), err->line, (unsigned long long)count,
                 err->trace);
}

static uint64_t counter(const struct entry *e, enum script_counter which)
{
    return e ? (uint64_t)atomic_load_explicit(&e->counters->n[which], memory_order_relaxed) : 0;
}

/* Under mu: activated_at, events, filtered and per-hook calls/errors/timeouts. */
static void add_live_stats(cJSON *stats, const struct entry *e)
{
    static const struct {
        const char *hook;
        enum script_counter calls;
    } rows[] = {
        {"filter", SCRIPT_COUNT_FILTER_CALLS},
        {"fingerprint", SCRIPT_COUNT_FINGERPRINT_CALLS},
        {"format", SCRIPT_COUNT_FORMAT_CALLS},
        {"scrub", SCRIPT_COUNT_SCRUB_CALLS},
    };
    json_set(stats, "activated_at",
             e && e->activated_ms ? json_new_int(e->activated_ms) : cJSON_CreateNull());
    json_set(stats, "events", json_new_int((int64_t)counter(e, SCRIPT_COUNT_EVENTS)));
    json_set(stats, "filtered", json_new_int((int64_t)counter(e, SCRIPT_COUNT_FILTERED)));
    cJSON *hooks = cJSON_CreateObject();
    for (size_t i = 0; hooks && i < sizeof rows / sizeof rows[0]; i++) {
        size_t h = hook_index(rows[i].hook);
        uint64_t errors = 0;
        for (size_t k = 1; e && k < REGISTRY_NKINDS; k++)
            errors += e->errors[h][k];
        json_set(hooks, rows[i].hook,
                 json_build("{s:I, s:I, s:I}", "calls", (int64_t)counter(e, rows[i].calls),
                            "errors", (int64_t)errors, "timeouts",
                            (int64_t)(e ? e->errors[h][VM_ERROR_TIMEOUT] : 0)));
    }
    json_set(stats, "hooks", hooks ? hooks : cJSON_CreateNull());
}

struct script_counters *script_registry_counters(struct script_registry *reg, int64_t project_id)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, true);
    struct script_counters *c = e ? e->counters : NULL;
    pthread_mutex_unlock(&reg->mu);
    return c;
}

void script_counters_add(struct script_counters *c, enum script_counter which, uint64_t n)
{
    assert(which < SCRIPT_COUNT_N);
    if (c) atomic_fetch_add_explicit(&c->n[which], n, memory_order_relaxed);
}

int script_registry_stats(struct script_registry *reg, int64_t project_id, cJSON **out)
{
    cJSON *stats = cJSON_CreateObject(), *errors = cJSON_CreateObject();
    if (!stats || !errors) {
        cJSON_Delete(stats);
        cJSON_Delete(errors);
        return -ENOMEM;
    }
    int rc = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    json_set(stats, "project_id", json_new_int(project_id));
    json_set(stats, "version", e && e->version ? json_new_int(e->version) : cJSON_CreateNull());
    json_set(stats, "generation", json_new_int(e ? (int64_t)e->generation : 0));
    for (size_t h = 0; e && h < REGISTRY_NHOOKS; h++) {
        cJSON *kinds = NULL;
        for (size_t k = 1; k < REGISTRY_NKINDS; k++) {
            if (!e->errors[h][k]) continue;
            if (!kinds) kinds = cJSON_CreateObject();
            json_set(kinds, vm_error_kind_name((enum vm_error_kind)k),
                     json_new_int((int64_t)e->errors[h][k]));
        }
        if (kinds) json_set(errors, HOOKS[h], kinds);
    }
    json_set(stats, "errors", errors);
    add_live_stats(stats, e);
    cJSON *last;
    if (e && e->has_last) /* "s" repairs a message that is not valid UTF-8 (base/json.h) */
        last = json_build("{s:s, s:s, s:s, s:i, s:I}", "hook", e->last.hook, "kind",
                          vm_error_kind_name(e->last.kind), "message", e->last.message, "line",
                          e->last.line, "at", (int64_t)e->last.at_ms);
    else
        last = cJSON_CreateNull();
    pthread_mutex_unlock(&reg->mu);
    if (!last) rc = -ENOMEM;
    json_set(stats, "last_error", last ? last : cJSON_CreateNull());
    if (rc != 0) {
        cJSON_Delete(stats);
        return rc;
    }
    *out = stats;
    return 0;
}
