/* lua/runtime — a worker's Lua states: one per project with a script
 * (built lazily, rebuilt when the registry publishes a new generation), and
 * one shared state for every project on the default rules (no operator code
 * runs there, so sharing it isolates nothing away). */
#include "lua/runtime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "base/clock.h"
#include "model/event.h"
#include "grouping/config.h"
#include "base/log.h"
#include "model/scrub.h"
#include "lua/event_table.h"
#include "lua/grouping_memo.h"
#include "lua/registry.h"
#include "lua/script.h"
#include "lua/script_scrub.h"
#include "store/grouping_transitions.h"
#include "store/store.h"

struct project_state {
    int64_t project_id;
    uint64_t generation;              /* the registry publication it was built from */
    struct script *script;            /* NULL: the default rules */
    struct script_counters *counters; /* the registry's, for the status endpoint */
    struct scrub_rules *scrub;        /* a reference to the registry's */
    uint64_t scrub_generation;
    /* A grouping transition (README "Grouping transitions"): until
     * prev_until (ms), events are also grouped the previous way — by
     * prev_script, or by the default rules when prev_default. */
    struct script *prev_script;
    bool prev_default;
    int64_t prev_until;
};

struct runtime {
    struct script_registry *reg; /* borrowed; NULL: default rules only */
    struct vm_limits limits;
    uint64_t seen_generation;
    struct script *default_script;  /* lazily built */
    size_t memo_entries;            /* 0: no memo; else the size of an own one */
    struct grouping_memo *own_memo; /* owned: set_memo's, or lazily built without a registry */
    struct project_state *projects;
    size_t n, cap;
};

int runtime_new(struct script_registry *reg, const struct config *cfg, struct runtime **out)
{
    struct runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return -ENOMEM;
    rt->reg = reg;
    rt->memo_entries = GROUPING_MEMO_ENTRIES_DEFAULT;
    if (rt->reg)
        rt->limits = *script_registry_limits(rt->reg);
    else
        vm_limits_from_config(cfg, &rt->limits);
    *out = rt;
    return 0;
}

void runtime_free(struct runtime *rt)
{
    if (!rt) return;
    for (size_t i = 0; i < rt->n; i++) {
        script_close(rt->projects[i].script);
        script_close(rt->projects[i].prev_script);
        scrub_rules_unref(rt->projects[i].scrub);
    }
    free(rt->projects);
    script_close(rt->default_script);
    grouping_memo_free(rt->own_memo); /* also flushes this thread's memo counts */
    free(rt);
}

int runtime_set_memo(struct runtime *rt, size_t entries)
{
    grouping_memo_free(rt->own_memo);
    rt->own_memo = NULL;
    rt->memo_entries = entries;
    return entries ? grouping_memo_new(entries, &rt->own_memo) : 0;
}

/* The memo the default grouping uses now: the runtime's own, else the
 * registry's shared one, else one of its own built now. NULL: off. */
static struct grouping_memo *memo_in_use(const struct runtime *rt)
{
    if (!rt->memo_entries) return NULL;
    if (rt->own_memo) return rt->own_memo;
    return rt->reg ? script_registry_memo(rt->reg) : NULL;
}

static struct grouping_memo *memo(struct runtime *rt)
{
    struct grouping_memo *m = memo_in_use(rt);
    if (!m && rt->memo_entries && grouping_memo_new(rt->memo_entries, &rt->own_memo) == 0)
        m = rt->own_memo;
    return m;
}

int runtime_memo_stats(const struct runtime *rt, struct grouping_memo_stats *out)
{
    struct grouping_memo *m = memo_in_use(rt);
    if (!m) return -ENOENT;
    grouping_memo_stats(m, out);
    return 0;
}

static void report(struct runtime *rt, int64_t project_id, const char *hook,
                   const struct vm_error *err)
{
    if (rt->reg)
        script_registry_record_error(rt->reg, project_id, hook, err);
    else
        log_warn("script error, default used", "project=%lld hook=%s kind=%s error=%s",
                 (long long)project_id, hook, vm_error_kind_name(err->kind), err->trace);
}

/* The project's previous grouping while a transition runs (read from the
 * store when the state is built, i.e. after every publication). */
static void build_transition(struct runtime *rt, struct project_state *ps)
{
    script_close(ps->prev_script);
    ps->prev_script = NULL;
    ps->prev_default = false;
    ps->prev_until = 0;
    struct grouping_transition tr;
    if (script_registry_transition(rt->reg, ps->project_id, clock_wall_ms(), &tr) != 0) return;
    const char *module = grouping_config_module(tr.prev_config);
    struct script_rules rules = {tr.prev_fingerprint_rules, tr.prev_stacktrace_rules};
    if (!module) {
        log_warn("previous default grouping not in this build: no transition",
                 "project=%lld config=%s", (long long)ps->project_id, tr.prev_config);
    } else if (!tr.prev_source && !script_rules_present(&rules) &&
               strcmp(module, SCRIPT_GROUPING_MODULE) == 0) {
        ps->prev_default = true;
        ps->prev_until = tr.expires_at_ms;
    } else {
        struct vm_error err = {0};
        if (script_open_grouping(&rt->limits, module, tr.prev_source, tr.prev_len, &rules,
                                 &ps->prev_script, &err) == 0)
            ps->prev_until = tr.expires_at_ms;
        else
            report(rt, ps->project_id, "load", &err);
    }
    grouping_transition_clear(&tr);
}

/* Builds the project's script as the registry has it now into ps (build
 * first, then swap: on failure the old state stays). */
static void build_project(struct runtime *rt, struct project_state *ps)
{
    int64_t version;
    char *source;
    size_t len;
    uint64_t generation;
    char *fingerprint_rules, *stacktrace_rules;
    if (script_registry_get(rt->reg, ps->project_id, &version, &source, &len, &generation) != 0)
        return;
    if (script_registry_get_rules(rt->reg, ps->project_id, &fingerprint_rules, &stacktrace_rules) !=
        0) {
        free(source);
        return;
    }
    struct script_rules rules = {fingerprint_rules, stacktrace_rules};
    struct script *fresh = NULL;
    int rc = 0;
    if (source || script_rules_present(&rules)) {
        struct vm_error err = {0};
        rc = script_open_rules(&rt->limits, source, len, &rules, &fresh, &err);
        if (rc != 0) report(rt, ps->project_id, "load", &err);
    }
    free(source);
    free(fingerprint_rules);
    free(stacktrace_rules);
    if (rc != 0) return;
    script_close(ps->script);
    ps->script = fresh;
    ps->generation = generation;
    build_transition(rt, ps);
}

/* Takes the project's scrubbing rules from the registry when they changed. */
static void take_scrub(struct runtime *rt, struct project_state *ps)
{
    uint64_t generation;
    struct scrub_rules *r = script_registry_scrub(rt->reg, ps->project_id, &generation);
    if (ps->scrub && generation == ps->scrub_generation) {
        scrub_rules_unref(r);
        return;
    }
    scrub_rules_unref(ps->scrub);
    ps->scrub = r;
    ps->scrub_generation = generation;
}

static struct project_state *project_state(struct runtime *rt, int64_t project_id)
{
    for (size_t i = 0; i < rt->n; i++)
        if (rt->projects[i].project_id == project_id) return &rt->projects[i];
    if (rt->n == rt->cap) {
        size_t cap = rt->cap ? rt->cap * 2 : 8;
        struct project_state *p = realloc(rt->projects, cap * sizeof *p);
        if (!p) return NULL;
        rt->projects = p;
        rt->cap = cap;
    }
    struct project_state *ps = &rt->projects[rt->n++];
    *ps = (struct project_state){.project_id = project_id};
    ps->counters = script_registry_counters(rt->reg, project_id);
    build_project(rt, ps);
    take_scrub(rt, ps);
    return ps;
}

/* One atomic load per event; on a change, rebuild what changed. */
static void refresh(struct runtime *rt)
{
    uint64_t gen = script_registry_generation(rt->reg);
    if (gen == rt->seen_generation) return;
    rt->seen_generation = gen;
    for (size_t i = 0; i < rt->n; i++) {
        struct project_state *ps = &rt->projects[i];
        int64_t version;
        char *source;
        size_t len;
        uint64_t generation;
        take_scrub(rt, ps);
        if (script_registry_get(rt->reg, ps->project_id, &version, &source, &len, &generation) != 0)
            continue;
        free(source);
        if (generation != ps->generation) build_project(rt, ps);
    }
}

static struct script *default_script(struct runtime *rt)
{
    if (!rt->default_script) {
        struct vm_error err = {0};
        if (script_open(&rt->limits, NULL, 0, &rt->default_script, &err) != 0)
            log_error("default grouping unavailable, C grouping used", "error=%s", err.trace);
    }
    return rt->default_script;
}

/* After a memory error: a state that stays large after a full collection
 * holds on to script data; drop it so the next event builds a fresh one. */
static void reclaim(struct runtime *rt, struct project_state *ps, struct script *s)
{
    lua_gc(vm_lua(script_vm(s)), LUA_GCCOLLECT);
    if (vm_memory_used(script_vm(s)) <= rt->limits.memory_bytes / 2) return;
    log_warn("Lua state over half its memory cap after a collection, rebuilt",
             "project=%lld bytes=%zu", ps ? (long long)ps->project_id : 0LL,
             vm_memory_used(script_vm(s)));
    script_close(s);
    if (ps && ps->script == s) {
        ps->script = NULL;
        ps->generation = 0; /* rebuilt from the registry on the next event */
        rt->seen_generation = 0;
    } else {
        rt->default_script = NULL;
    }
}

/* Lock-free counts behind the script status endpoint's live stats. */
static void count_run(const struct project_state *ps, const struct script *s,
                      const struct script_result *res)
{
    if (!ps || ps->script != s || !ps->counters) return;
    script_counters_add(ps->counters, SCRIPT_COUNT_EVENTS, 1);
    if (script_has_hook(s, SCRIPT_HOOK_FILTER))
        script_counters_add(ps->counters, SCRIPT_COUNT_FILTER_CALLS, 1);
    if (res->filtered)
        script_counters_add(ps->counters, SCRIPT_COUNT_FILTERED, 1);
    else if (script_has_hook(s, SCRIPT_HOOK_FINGERPRINT))
        script_counters_add(ps->counters, SCRIPT_COUNT_FINGERPRINT_CALLS, 1);
}

int runtime_scrub(struct runtime *rt, cJSON **json, struct grouped_event *ev)
{
    struct project_state *ps = NULL;
    if (rt->reg) {
        refresh(rt);
        /* Without the project's own rules (out of memory) scrubbing with
         * the defaults could miss its extra fields: refuse instead. */
        if (!(ps = project_state(rt, ev->project_id)) || !ps->scrub) return -ENOMEM;
    }
    const struct scrub_rules *rules = ps ? ps->scrub : scrub_rules_default();
    struct script *s = ps ? ps->script : NULL;
    struct script_scrub_result res;
    int rc = script_scrub_event(s, rules, json, ev, &res);
    if (res.hook_ran && ps && ps->counters)
        script_counters_add(ps->counters, SCRIPT_COUNT_SCRUB_CALLS, 1);
    if (res.hook_failed) {
        report(rt, ev->project_id, "scrub", &res.error);
        if (res.error.kind == VM_ERROR_MEMORY) reclaim(rt, ps, s);
    }
    return rc;
}

static bool hook_failed(const struct script_result *res, const char *hook)
{
    for (size_t i = 0; i < res->nerrors; i++)
        if (strcmp(res->errors[i].hook, hook) == 0) return true;
    return false;
}

/* During a transition: the hash the previous grouping gives ev, into
 * ev->prev_hash when it differs (a previous grouping that failed gives
 * none: a wrong guess would join unrelated issues). */
static void group_previous(struct runtime *rt, struct project_state *ps, cJSON *json,
                           struct grouped_event *ev)
{
    if (!ps || ev->filtered || ev->received_at_ms >= ps->prev_until) return;
    struct script *p = ps->prev_script    ? ps->prev_script
                       : ps->prev_default ? default_script(rt)
                                          : NULL;
    if (!p) return;
    struct script_result res;
    if (script_run(p, json, false, &res) == 0 && res.nerrors == 0 && !res.filtered &&
        strcmp(res.hash, ev->hash) != 0)
        memcpy(ev->prev_hash, res.hash, sizeof ev->prev_hash);
    script_result_clear(&res);
}

static int group_current(struct runtime *rt, struct project_state *ps, cJSON *json,
                         struct grouped_event *ev);

int runtime_process(struct runtime *rt, cJSON *json, struct grouped_event *ev)
{
    struct project_state *ps = NULL;
    if (rt->reg) {
        refresh(rt);
        ps = project_state(rt, ev->project_id);
    }
    int rc = group_current(rt, ps, json, ev);
    if (rc == 0) group_previous(rt, ps, json, ev);
    return rc;
}

static int group_current(struct runtime *rt, struct project_state *ps, cJSON *json,
                         struct grouped_event *ev)
{
    struct script *s = ps && ps->script ? ps->script : default_script(rt);
    if (!s) return -EIO;
    /* The default rules read nothing but the event table: an input seen
     * before has its result in the memo. */
    struct grouping_memo_key key;
    struct grouping_memo *m = s == rt->default_script ? memo(rt) : NULL;
    if (m) {
        struct event_table_args args;
        script_event_args(s, json, &args);
        grouping_memo_key(&args, ev->project_id, rt->seen_generation, &key);
        char *title, *culprit;
        if (grouping_memo_get(m, &key, ev->hash, &title, &culprit) == 1) {
            ev->filtered = 0;
            free(ev->title);
            free(ev->culprit);
            ev->title = title;
            ev->culprit = culprit;
            return 0;
        }
    }
    struct script_result res;
    int rc = script_run(s, json, false, &res);
    if (m && rc == 0 && res.nerrors == 0 && !res.filtered)
        grouping_memo_put(m, &key, res.hash, res.title, res.culprit);
    count_run(ps, s, &res);
    bool memory_error = false;
    for (size_t i = 0; i < res.nerrors; i++) {
        report(rt, ev->project_id, res.errors[i].hook, &res.errors[i].error);
        memory_error |= res.errors[i].error.kind == VM_ERROR_MEMORY;
    }
    if (rc == 0) {
        ev->filtered = res.filtered;
        bool by_script = s != rt->default_script && script_has_hook(s, SCRIPT_HOOK_FINGERPRINT) &&
                         !hook_failed(&res, "fingerprint");
        ev->grouping = by_script ? EVENT_GROUPED_BY_SCRIPT : EVENT_GROUPED_BY_DEFAULT;
        if (!res.filtered) {
            memcpy(ev->hash, res.hash, sizeof ev->hash);
            free(ev->title);
            free(ev->culprit);
            ev->title = res.title;
            ev->culprit = res.culprit;
            res.title = res.culprit = NULL;
        }
    }
    script_result_clear(&res);
    if (memory_error) reclaim(rt, ps, s);
    return rc == 0 ? 0 : -EIO;
}

struct script *runtime_format_script(struct runtime *rt, int64_t project_id)
{
    if (!rt->reg) return default_script(rt);
    refresh(rt);
    struct project_state *ps = project_state(rt, project_id);
    if (!ps || !ps->script) return default_script(rt);
    if (script_has_hook(ps->script, SCRIPT_HOOK_FORMAT) && ps->counters)
        script_counters_add(ps->counters, SCRIPT_COUNT_FORMAT_CALLS, 1);
    return ps->script;
}

void runtime_hook_failed(struct runtime *rt, int64_t project_id, const char *hook,
                         const struct vm_error *err)
{
    report(rt, project_id, hook, err);
    if (err->kind != VM_ERROR_MEMORY || !rt->reg) return;
    for (size_t i = 0; i < rt->n; i++)
        if (rt->projects[i].project_id == project_id && rt->projects[i].script)
            reclaim(rt, &rt->projects[i], rt->projects[i].script);
}
