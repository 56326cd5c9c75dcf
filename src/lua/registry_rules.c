/* lua/registry_rules — a project's grouping rules in Sentry's syntax in the
 * registry: read, validated and stored (script_registry_set_rules),
 * published with a new generation so every worker rebuilds the project's
 * state, and re-read from the store (start, SIGHUP, NOTIFY). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "lua/registry_internal.h"
#include "lua/script.h"
#include "store/grouping_rules.h"
#include "store/store.h"

static bool same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *nonempty_or_free(char *s)
{
    if (s && !s[0]) {
        free(s);
        return NULL;
    }
    return s;
}

int registry_publish_rules(struct script_registry *reg, int64_t project_id, char *fingerprint,
                           char *stacktrace)
{
    fingerprint = nonempty_or_free(fingerprint);
    stacktrace = nonempty_or_free(stacktrace);
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, fingerprint || stacktrace);
    int rc = 0;
    if (!e) {
        rc = fingerprint || stacktrace ? -ENOMEM : 0;
    } else if (!same_text(e->fingerprint_rules, fingerprint) ||
               !same_text(e->stacktrace_rules, stacktrace)) {
        free(e->fingerprint_rules);
        free(e->stacktrace_rules);
        e->fingerprint_rules = fingerprint;
        e->stacktrace_rules = stacktrace;
        fingerprint = stacktrace = NULL;
        e->generation = atomic_fetch_add(&reg->generation, 1) + 1;
        rc = 1;
    }
    pthread_mutex_unlock(&reg->mu);
    free(fingerprint);
    free(stacktrace);
    if (rc == 1) log_info("grouping rules published", "project=%lld", (long long)project_id);
    return rc;
}

int script_registry_get_rules(struct script_registry *reg, int64_t project_id, char **fingerprint,
                              char **stacktrace)
{
    *fingerprint = *stacktrace = NULL;
    int rc = 0;
    pthread_mutex_lock(&reg->mu);
    struct entry *e = registry_find_entry(reg, project_id, false);
    if (e && (e->fingerprint_rules || e->stacktrace_rules)) {
        *fingerprint = strdup(e->fingerprint_rules ? e->fingerprint_rules : "");
        *stacktrace = strdup(e->stacktrace_rules ? e->stacktrace_rules : "");
        if (!*fingerprint || !*stacktrace) rc = -ENOMEM;
    }
    pthread_mutex_unlock(&reg->mu);
    if (rc != 0) {
        free(*fingerprint);
        free(*stacktrace);
        *fingerprint = *stacktrace = NULL;
    }
    return rc;
}

int script_registry_check_rules(struct script_registry *reg, const char *fingerprint,
                                const char *stacktrace, char **error_message)
{
    *error_message = NULL;
    struct script_rules rules = {fingerprint, stacktrace};
    struct script *s = NULL;
    struct vm_error err = {0};
    if (script_open_rules(&reg->limits, NULL, 0, &rules, &s, &err) != 0) {
        *error_message = strdup(err.message[0] ? err.message : "the rules were refused");
        return -EINVAL;
    }
    script_close(s);
    return 0;
}

int script_registry_set_rules(struct script_registry *reg, int64_t project_id,
                              const char *fingerprint, const char *stacktrace, char **error_message)
{
    *error_message = NULL;
    if (!reg->store) return -EIO;
    int rc = script_registry_check_rules(reg, fingerprint, stacktrace, error_message);
    if (rc != 0) return rc;
    registry_begin_transition(reg, project_id);
    struct db *db = store_acquire(reg->store);
    rc = grouping_rules_set(db, project_id, fingerprint, stacktrace);
    store_release(reg->store, db);
    if (rc != 0) return rc;
    char *fp = strdup(fingerprint), *st = strdup(stacktrace);
    if (!fp || !st) {
        free(fp);
        free(st);
        return -ENOMEM;
    }
    rc = registry_publish_rules(reg, project_id, fp, st);
    return rc < 0 ? rc : 0;
}

struct stored {
    struct stored_rules {
        int64_t project_id;
        char *fingerprint, *stacktrace;
    } * items;
    size_t n, cap;
};

static int collect(void *ctx, int64_t project_id, const char *fingerprint, const char *stacktrace)
{
    struct stored *list = ctx;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        struct stored_rules *items = realloc(list->items, cap * sizeof *items);
        if (!items) return -ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    char *fp = strdup(fingerprint), *st = strdup(stacktrace);
    if (!fp || !st) {
        free(fp);
        free(st);
        return -ENOMEM;
    }
    list->items[list->n++] = (struct stored_rules){project_id, fp, st};
    return 0;
}

static bool listed(const struct stored *list, int64_t project_id)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].project_id == project_id) return true;
    return false;
}

int registry_reload_rules(struct script_registry *reg, int64_t project_id)
{
    if (!reg->store) return 0;
    struct stored list = {0};
    struct db *db = store_acquire(reg->store);
    int rc;
    if (project_id > 0) {
        char *fp = NULL, *st = NULL;
        rc = grouping_rules_get(db, project_id, &fp, &st, NULL);
        if (rc == 0) rc = collect(&list, project_id, fp, st);
        if (rc == -ENOENT) rc = 0;
        free(fp);
        free(st);
    } else {
        rc = grouping_rules_for_each(db, collect, &list);
    }
    store_release(reg->store, db);
    int published = 0;
    for (size_t i = 0; rc >= 0 && i < list.n; i++) {
        struct stored_rules *r = &list.items[i];
        char *msg = NULL;
        if (script_registry_check_rules(reg, r->fingerprint, r->stacktrace, &msg) != 0) {
            log_error("stored grouping rules do not parse, running Sentry's built-in rules",
                      "project=%lld error=%s", (long long)r->project_id, msg ? msg : "");
            free(msg);
            r->fingerprint[0] = r->stacktrace[0] = '\0';
        }
        int p = registry_publish_rules(reg, r->project_id, r->fingerprint, r->stacktrace);
        r->fingerprint = r->stacktrace = NULL; /* publish took them */
        if (p < 0) rc = p;
        published += p > 0;
    }
    /* Projects whose rules were removed elsewhere go back to the built-in ones. */
    for (size_t i = 0; rc >= 0; i++) {
        int64_t pid = 0;
        pthread_mutex_lock(&reg->mu);
        bool more = i < reg->n;
        if (more && (reg->entries[i].fingerprint_rules || reg->entries[i].stacktrace_rules))
            pid = reg->entries[i].project_id;
        pthread_mutex_unlock(&reg->mu);
        if (!more) break;
        if (pid && (project_id == 0 || pid == project_id) && !listed(&list, pid))
            published += registry_publish_rules(reg, pid, NULL, NULL) > 0;
    }
    for (size_t i = 0; i < list.n; i++) {
        free(list.items[i].fingerprint);
        free(list.items[i].stacktrace);
    }
    free(list.items);
    return rc < 0 ? rc : published;
}
