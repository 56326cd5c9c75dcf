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
static void add_live_stats(json_t *stats, const struct entry *e)
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
    json_object_set_new(stats, "activated_at",
                        e && e->activated_ms ? json_integer(e->activated_ms) : json_null());
    json_object_set_new(stats, "events", json_integer((json_int_t)counter(e, SCRIPT_COUNT_EVENTS)));
    json_object_set_new(stats, "filtered",
                        json_integer((json_int_t)counter(e, SCRIPT_COUNT_FILTERED)));
    json_t *hooks = json_object();
    for (size_t i = 0; hooks && i < sizeof rows / sizeof rows[0]; i++) {
        size_t h = hook_index(rows[i].hook);
        uint64_t errors = 0;
        for (size_t k = 1; e && k < REGISTRY_NKINDS; k++)
            errors += e->errors[h][k];
        json_object_set_new(hooks, rows[i].hook,
                            json_pack("{s:I, s:I, s:I}", "calls",
                                      (json_int_t)counter(e, rows[i].calls), "errors",
                                      (json_int_t)errors, "timeouts",
                                      (json_int_t)(e ? e->errors[h][VM_ERROR_TIMEOUT] : 0)));
    }
    json_object_set_new(stats, "hooks", hooks ? hooks : json_null());
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

int script_registry_stats(struct script_registry *reg, int64_t project_id, json_t **out)
{
    json_t *stats = json_object(), *errors = json_object();
    if (!stats || !errors) {
        json_decref(stats);
        json_decref(errors);
        return -ENOMEM;
    }
    int rc = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    json_object_set_new(stats, "project_id", json_integer(project_id));
    json_object_set_new(stats, "version", e && e->version ? json_integer(e->version) : json_null());
    json_object_set_new(stats, "generation", json_integer(e ? (json_int_t)e->generation : 0));
    for (size_t h = 0; e && h < REGISTRY_NHOOKS; h++) {
        json_t *kinds = NULL;
        for (size_t k = 1; k < REGISTRY_NKINDS; k++) {
            if (!e->errors[h][k]) continue;
            if (!kinds) kinds = json_object();
            json_object_set_new(kinds, vm_error_kind_name((enum vm_error_kind)k),
                                json_integer((json_int_t)e->errors[h][k]));
        }
        if (kinds) json_object_set_new(errors, HOOKS[h], kinds);
    }
    json_object_set_new(stats, "errors", errors);
    add_live_stats(stats, e);
    json_t *last = json_null();
    if (e && e->has_last) {
        json_t *msg = json_string(e->last.message); /* NULL when not UTF-8 */
        last = json_pack("{s:s, s:s, s:o, s:i, s:I}", "hook", e->last.hook, "kind",
                         vm_error_kind_name(e->last.kind), "message",
                         msg ? msg : json_string("(message is not valid UTF-8)"), "line",
                         e->last.line, "at", (json_int_t)e->last.at_ms);
    }
    pthread_mutex_unlock(&reg->mu);
    if (!last) rc = -ENOMEM;
    json_object_set_new(stats, "last_error", last ? last : json_null());
    if (rc != 0) {
        json_decref(stats);
        return rc;
    }
    *out = stats;
    return 0;
}
