/* lua/registry_internal — what the registry's files share (registry.c:
 * the table and publication; registry_reload.c: re-reading the store;
 * registry_validate.c: build-and-run checks; registry_stats.c: error
 * counts and live counters). Not for use outside src/lua/registry*.c. */
#ifndef PERISCOPE_LUA_REGISTRY_INTERNAL_H
#define PERISCOPE_LUA_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lua/registry.h"
#include "lua/vm.h"

/* filter, fingerprint, format, scrub, grouping, event, load (registry_stats.c). */
#define REGISTRY_NHOOKS 8
#define REGISTRY_NKINDS (VM_ERROR_TYPE + 1)

struct config;
struct grouping_memo;
struct scrub_rules;
struct scrub_settings;

struct last_error {
    const char *hook; /* static */
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
    long long activated_ms;           /* when the active script was published; 0: never */
    int64_t version;                  /* 0: default rules */
    char *source;                     /* owned; NULL for the default rules */
    size_t len;
    char *fingerprint_rules; /* owned; the project's stored Sentry-syntax rules, NULL: none */
    char *stacktrace_rules;  /* owned; NULL: none */
    uint64_t generation;
    struct scrub_rules *scrub; /* owned reference; NULL: the default rules */
    char *scrub_key;           /* owned: the settings scrub came from, as text; NULL: defaults */
    uint64_t scrub_generation; /* 0 until the project's settings were published */
    uint64_t errors[REGISTRY_NHOOKS][REGISTRY_NKINDS];
    long long last_log_ms[REGISTRY_NHOOKS];
    bool has_last;
    struct last_error last;
};

struct script_registry {
    pthread_mutex_t mu;
    struct store *store;    /* may be NULL */
    const char *public_url; /* for the sample alert's links; borrowed from the config */
    struct vm_limits limits;
    script_format_check_fn format_check; /* may be NULL: format() not validated */
    atomic_uint_fast64_t generation;
    struct grouping_memo *memo; /* owned; thread-safe on its own (not under mu) */
    struct entry *entries;      /* guarded by mu */
    size_t n, cap;
};

/* Records the project's grouping as the previous one before it changes
 * (registry_transition.c); a failure is logged, never fatal. */
void registry_begin_transition(struct script_registry *reg, int64_t project_id);
/* At open: transitions for projects whose default grouping config changed. */
int registry_check_grouping_config(struct script_registry *reg);

/* Under mu. Finds or (create) adds the project's entry; NULL on OOM or
 * when absent and !create. */
struct entry *registry_find_entry(struct script_registry *reg, int64_t project_id, bool create);

/* Makes (version, source) the project's active script and resets its
 * stats. Takes ownership of source. Takes mu. Returns 0 or -ENOMEM. */
int registry_publish(struct script_registry *reg, int64_t project_id, int64_t version, char *source,
                     size_t len);

/* Makes s the project's scrubbing settings when they differ from the ones
 * published (builds the rules first: on failure nothing changes). Takes
 * mu. Returns 1 published, 0 unchanged, or a negative errno. */
int registry_publish_scrub(struct script_registry *reg, int64_t project_id,
                           const struct scrub_settings *s);

/* Makes (fingerprint, stacktrace) the project's stored grouping rules
 * (NULL or "" for none), bumping its generation when they changed. Takes
 * ownership of both. Takes mu. Returns 1 when changed, 0 when not, or
 * -ENOMEM. */
int registry_publish_rules(struct script_registry *reg, int64_t project_id, char *fingerprint,
                           char *stacktrace);

/* Re-reads the stored grouping rules of one project (project_id > 0) or of
 * all (0) and publishes the changed ones (registry_rules.c). Returns the
 * number published or a negative errno. */
int registry_reload_rules(struct script_registry *reg, int64_t project_id);

/* Compiles source in a fresh state, running no hook: 0, or -EINVAL with
 * *error_message (malloc'd, caller frees) and *error_line. */
int registry_check_compiles(struct script_registry *reg, const char *source, size_t len,
                            char **error_message, int *error_line);

#endif
