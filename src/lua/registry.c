/* lua/registry — active scripts per project, generations, error stats. */
#include "lua/registry.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>

#include "log.h"
#include "metrics.h"
#include "server.h"
#include "lua/script.h"
#include "store/scripts.h"
#include "store/store.h"

#define LOG_INTERVAL_MS 1000

static const char *const HOOKS[] = {"filter", "fingerprint", "format", "grouping", "event", "load"};
#define NHOOKS (sizeof HOOKS / sizeof HOOKS[0])
#define NKINDS (VM_ERROR_TYPE + 1)

/* A Python-style error event, for validating scripts when the caller has
 * no event of its own. */
static const char SAMPLE_EVENT[] =
    "{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"platform\":\"python\","
    "\"level\":\"error\",\"logger\":\"app\",\"environment\":\"production\","
    "\"release\":\"app@1.0.0\",\"transaction\":\"/checkout\",\"server_name\":\"web-1\","
    "\"tags\":{\"region\":\"eu-west-1\"},\"user\":{\"id\":\"42\"},"
    "\"exception\":{\"values\":[{\"type\":\"ConnectionError\",\"value\":\"connection refused\","
    "\"module\":\"requests.exceptions\",\"mechanism\":{\"type\":\"generic\",\"handled\":false},"
    "\"stacktrace\":{\"frames\":["
    "{\"filename\":\"app/views.py\",\"module\":\"app.views\",\"function\":\"checkout\","
    "\"lineno\":42,\"context_line\":\"    pay(order)\",\"in_app\":true},"
    "{\"filename\":\"app/payments.py\",\"module\":\"app.payments\",\"function\":\"pay\","
    "\"lineno\":7,\"context_line\":\"    return client.post(url)\",\"in_app\":true}]}}]}}";

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct last_error {
    const char *hook;
    enum vm_error_kind kind;
    char message[VM_ERROR_MESSAGE_MAX];
    int line;
    long long at_ms;
};

struct script_counters {
    atomic_uint_fast64_t n[SCRIPT_COUNT_N];
};

struct entry {
    int64_t project_id;
    struct script_counters *counters; /* owned; never moves (workers cache it) */
    long long activated_ms;  /* when the active script was published; 0: never */
    int64_t version;         /* 0: default rules */
    char *source;            /* owned; NULL for the default rules */
    size_t len;
    uint64_t generation;
    uint64_t errors[NHOOKS][NKINDS];
    long long last_log_ms[NHOOKS];
    bool has_last;
    struct last_error last;
};

struct script_registry {
    pthread_mutex_t mu;
    struct store *store;      /* may be NULL */
    struct vm_limits limits;
    atomic_uint_fast64_t generation;
    struct entry *entries;    /* guarded by mu */
    size_t n, cap;
};

/* Under mu. Finds or (create) adds the project's entry; NULL on OOM or
 * when absent and !create. */
static struct entry *find_entry(struct script_registry *reg, int64_t project_id, bool create)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->entries[i].project_id == project_id)
            return &reg->entries[i];
    if (!create)
        return NULL;
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        struct entry *e = realloc(reg->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        reg->entries = e;
        reg->cap = cap;
    }
    struct script_counters *counters = calloc(1, sizeof *counters);
    if (!counters)
        return NULL;
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
    e->activated_ms = now_ms();
    for (size_t i = 0; i < SCRIPT_COUNT_N; i++)
        atomic_store_explicit(&e->counters->n[i], 0, memory_order_relaxed);
}

/* Makes (version, source) the project's active script. Takes ownership of
 * source. Returns 0 or -ENOMEM. */
static int publish(struct script_registry *reg, int64_t project_id, int64_t version,
                   char *source, size_t len)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = find_entry(reg, project_id, true);
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
    log_info("script published", "project=%lld version=%lld", (long long)project_id, (long long)version);
    return 0;
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
    struct entry *e = find_entry(reg, project_id, false);
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
    if (e)
        *generation = e->generation;
    pthread_mutex_unlock(&reg->mu);
    return rc;
}

static void set_message(char **error_message, const char *hook, const struct vm_error *err)
{
    if (!error_message)
        return;
    size_t need = strlen(err->message) + (hook ? strlen(hook) + 2 : 0) + 1;
    *error_message = malloc(need);
    if (*error_message)
        snprintf(*error_message, need, "%s%s%s", hook ? hook : "", hook ? ": " : "", err->message);
}

/* Runs the script on ev, the filter switched off when it dropped the
 * event, so that every hook runs once. */
static int run_all_hooks(struct script *s, const cJSON *ev, struct script_result *res)
{
    int rc = script_run(s, ev, false, res);
    if (rc == 0 && res->filtered && res->nerrors == 0) {
        int filter_ref = s->filter_ref;
        s->filter_ref = LUA_NOREF;
        script_result_clear(res);
        rc = script_run(s, ev, false, res);
        s->filter_ref = filter_ref;
    }
    return rc;
}

int script_registry_validate(struct script_registry *reg, const char *source, size_t len,
                             const cJSON *sample_event, char **error_message, int *error_line)
{
    struct script *s = NULL;
    struct vm_error err = {0};
    cJSON *own_sample = NULL;
    int rc = -EINVAL;
    if (error_message)
        *error_message = NULL;
    if (error_line)
        *error_line = 0;
    if (script_open(&reg->limits, source, len, &s, &err) != 0) {
        set_message(error_message, NULL, &err);
        if (error_line)
            *error_line = err.line;
        return -EINVAL;
    }
    if (!sample_event)
        sample_event = own_sample = cJSON_Parse(SAMPLE_EVENT);
    struct script_result res;
    int run = run_all_hooks(s, sample_event, &res);
    if (res.nerrors > 0) {
        set_message(error_message, res.errors[0].hook, &res.errors[0].error);
        if (error_line)
            *error_line = res.errors[0].error.line;
    } else if (run != 0) {
        vm_error_set(&err, VM_ERROR_RUNTIME, "the default grouping could not run");
        set_message(error_message, NULL, &err);
    } else {
        rc = 0;
    }
    script_result_clear(&res);
    cJSON_Delete(own_sample);
    script_close(s);
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
    if (error_message)
        *error_message = NULL;
    if (error_line)
        *error_line = 0;
    if (!reg->store)
        return -EIO;
    char *source = NULL;
    size_t len = 0;
    int rc = 0;
    if (version > 0) {
        struct db *db = store_acquire(reg->store);
        rc = scripts_get_version(db, project_id, version, &source, &len);
        store_release(reg->store, db);
        if (rc != 0)
            return rc;
        rc = script_registry_validate(reg, source, len, sample_event, error_message, error_line);
        if (rc != 0)
            goto fail;
    }
    struct db *db = store_acquire(reg->store);
    rc = scripts_set_active(db, project_id, version);
    store_release(reg->store, db);
    if (rc != 0)
        goto fail;
    return publish(reg, project_id, version, source, len);
fail:
    free(source);
    return rc;
}

/* Reloads publish what another node (or an earlier run) already validated
 * against its sample event: here it must only compile, since the built-in
 * sample may not suit the project (a hook reading tags it always has). */
static int check_compiles(struct script_registry *reg, const char *source, size_t len,
                          char **error_message, int *error_line)
{
    struct script *s = NULL;
    struct vm_error err = {0};
    *error_message = NULL;
    *error_line = 0;
    if (script_open(&reg->limits, source, len, &s, &err) != 0) {
        set_message(error_message, NULL, &err);
        *error_line = err.line;
        return -EINVAL;
    }
    script_close(s);
    return 0;
}

struct active_list {
    struct active { int64_t project_id, version; char *source; size_t len; } *items;
    size_t n, cap;
};

static int collect_active(void *ctx, int64_t project_id, int64_t version, const char *source, size_t len)
{
    struct active_list *list = ctx;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        struct active *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    char *copy = strndup(source, len);
    if (!copy)
        return -ENOMEM;
    list->items[list->n++] = (struct active){project_id, version, copy, len};
    return 0;
}

/* Under no lock: the project's current version (0 when none). */
static int64_t current_version(struct script_registry *reg, int64_t project_id)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = find_entry(reg, project_id, false);
    int64_t v = e ? e->version : 0;
    pthread_mutex_unlock(&reg->mu);
    return v;
}

static bool is_listed(const struct active_list *list, int64_t project_id)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].project_id == project_id)
            return true;
    return false;
}

int script_registry_reload_all(struct script_registry *reg)
{
    if (!reg->store)
        return 0;
    struct active_list list = {0};
    struct db *db = store_acquire(reg->store);
    int rc = scripts_for_each_active(db, collect_active, &list);
    store_release(reg->store, db);
    int published = 0;
    for (size_t i = 0; rc == 0 && i < list.n; i++) {
        struct active *a = &list.items[i];
        if (current_version(reg, a->project_id) == a->version)
            continue;
        char *msg = NULL;
        int line = 0;
        if (check_compiles(reg, a->source, a->len, &msg, &line) != 0) {
            log_error("stored script does not validate, running the default rules",
                      "project=%lld version=%lld line=%d error=%s", (long long)a->project_id,
                      (long long)a->version, line, msg ? msg : "");
            free(msg);
            continue;
        }
        if (publish(reg, a->project_id, a->version, a->source, a->len) == 0)
            published++;
        a->source = NULL; /* publish took it */
    }
    /* Projects whose script was switched off elsewhere go back to default. */
    for (size_t i = 0; rc == 0; i++) {
        int64_t pid = 0;
        pthread_mutex_lock(&reg->mu);
        bool more = i < reg->n;
        if (more)
            pid = reg->entries[i].version > 0 ? reg->entries[i].project_id : 0;
        pthread_mutex_unlock(&reg->mu);
        if (!more)
            break;
        if (pid && !is_listed(&list, pid) && publish(reg, pid, 0, NULL, 0) == 0)
            published++;
    }
    for (size_t i = 0; i < list.n; i++)
        free(list.items[i].source);
    free(list.items);
    return rc < 0 ? rc : published;
}

int script_registry_reload_project(struct script_registry *reg, int64_t project_id)
{
    if (!reg->store)
        return 0;
    int64_t version = 0;
    char *source = NULL;
    size_t len = 0;
    struct db *db = store_acquire(reg->store);
    int rc = scripts_get_active(db, project_id, &version, &source, &len);
    store_release(reg->store, db);
    if (rc == -ENOENT) /* the project is gone: nothing of it runs any more */
        version = 0, rc = 0;
    if (rc != 0)
        return rc;
    if (current_version(reg, project_id) == version) {
        free(source);
        return 0;
    }
    if (version > 0) {
        char *msg = NULL;
        int line = 0;
        if (check_compiles(reg, source, len, &msg, &line) != 0) {
            log_error("stored script does not validate, keeping the running one",
                      "project=%lld version=%lld line=%d error=%s", (long long)project_id,
                      (long long)version, line, msg ? msg : "");
            free(msg);
            free(source);
            return -EINVAL;
        }
    }
    rc = publish(reg, project_id, version, source, len);
    return rc == 0 ? 1 : rc;
}

int script_registry_open(struct server *srv, struct script_registry **out)
{
    struct script_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return -ENOMEM;
    pthread_mutex_init(&reg->mu, NULL);
    reg->store = srv->store;
    vm_limits_from_config(srv->cfg, &reg->limits);
    metrics_describe("periscope_script_errors_total", "counter",
                     "Project script failures by project, hook and kind; the default was used");
    int rc = script_registry_reload_all(reg);
    if (rc < 0) {
        script_registry_close(reg);
        return rc;
    }
    *out = reg;
    return 0;
}

void script_registry_close(struct script_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        free(reg->entries[i].source);
        free(reg->entries[i].counters);
    }
    free(reg->entries);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}

static size_t hook_index(const char *hook)
{
    for (size_t i = 0; i < NHOOKS; i++)
        if (strcmp(HOOKS[i], hook) == 0)
            return i;
    return NHOOKS - 1;
}

void script_registry_record_error(struct script_registry *reg, int64_t project_id,
                                  const char *hook, const struct vm_error *err)
{
    size_t h = hook_index(hook);
    size_t k = err->kind < NKINDS ? (size_t)err->kind : VM_ERROR_RUNTIME;
    long long now = now_ms();
    bool log_it = false;
    uint64_t count = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = find_entry(reg, project_id, true);
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
        log_warn("script error, default used", "project=%lld hook=%s kind=%s line=%d count=%llu error=%s",
                 (long long)project_id, HOOKS[h], vm_error_kind_name(err->kind), err->line,
                 (unsigned long long)count, err->trace);
}

static uint64_t counter(const struct entry *e, enum script_counter which)
{
    return e ? (uint64_t)atomic_load_explicit(&e->counters->n[which], memory_order_relaxed) : 0;
}

/* Under mu: activated_at, events, filtered and per-hook calls/errors/timeouts. */
static void add_live_stats(json_t *stats, const struct entry *e)
{
    static const struct { const char *hook; enum script_counter calls; } rows[] = {
        {"filter", SCRIPT_COUNT_FILTER_CALLS},
        {"fingerprint", SCRIPT_COUNT_FINGERPRINT_CALLS},
        {"format", SCRIPT_COUNT_FORMAT_CALLS},
    };
    json_object_set_new(stats, "activated_at",
                        e && e->activated_ms ? json_integer(e->activated_ms) : json_null());
    json_object_set_new(stats, "events", json_integer((json_int_t)counter(e, SCRIPT_COUNT_EVENTS)));
    json_object_set_new(stats, "filtered", json_integer((json_int_t)counter(e, SCRIPT_COUNT_FILTERED)));
    json_t *hooks = json_object();
    for (size_t i = 0; hooks && i < sizeof rows / sizeof rows[0]; i++) {
        size_t h = hook_index(rows[i].hook);
        uint64_t errors = 0;
        for (size_t k = 1; e && k < NKINDS; k++)
            errors += e->errors[h][k];
        json_object_set_new(hooks, rows[i].hook,
                            json_pack("{s:I, s:I, s:I}", "calls", (json_int_t)counter(e, rows[i].calls),
                                      "errors", (json_int_t)errors, "timeouts",
                                      (json_int_t)(e ? e->errors[h][VM_ERROR_TIMEOUT] : 0)));
    }
    json_object_set_new(stats, "hooks", hooks ? hooks : json_null());
}

struct script_counters *script_registry_counters(struct script_registry *reg, int64_t project_id)
{
    pthread_mutex_lock(&reg->mu);
    struct entry *e = find_entry(reg, project_id, true);
    struct script_counters *c = e ? e->counters : NULL;
    pthread_mutex_unlock(&reg->mu);
    return c;
}

void script_counters_add(struct script_counters *c, enum script_counter which, uint64_t n)
{
    assert(which < SCRIPT_COUNT_N);
    if (c)
        atomic_fetch_add_explicit(&c->n[which], n, memory_order_relaxed);
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
    struct entry *e = find_entry(reg, project_id, false);
    json_object_set_new(stats, "project_id", json_integer(project_id));
    json_object_set_new(stats, "version", e && e->version ? json_integer(e->version) : json_null());
    json_object_set_new(stats, "generation", json_integer(e ? (json_int_t)e->generation : 0));
    for (size_t h = 0; e && h < NHOOKS; h++) {
        json_t *kinds = NULL;
        for (size_t k = 1; k < NKINDS; k++) {
            if (!e->errors[h][k])
                continue;
            if (!kinds)
                kinds = json_object();
            json_object_set_new(kinds, vm_error_kind_name((enum vm_error_kind)k),
                                json_integer((json_int_t)e->errors[h][k]));
        }
        if (kinds)
            json_object_set_new(errors, HOOKS[h], kinds);
    }
    json_object_set_new(stats, "errors", errors);
    add_live_stats(stats, e);
    json_t *last = json_null();
    if (e && e->has_last) {
        json_t *msg = json_string(e->last.message); /* NULL when not UTF-8 */
        last = json_pack("{s:s, s:s, s:o, s:i, s:I}", "hook", e->last.hook,
                         "kind", vm_error_kind_name(e->last.kind),
                         "message", msg ? msg : json_string("(message is not valid UTF-8)"),
                         "line", e->last.line, "at", (json_int_t)e->last.at_ms);
    }
    pthread_mutex_unlock(&reg->mu);
    if (!last)
        rc = -ENOMEM;
    json_object_set_new(stats, "last_error", last ? last : json_null());
    if (rc != 0) {
        json_decref(stats);
        return rc;
    }
    *out = stats;
    return 0;
}
