/* lua/script — compile a project's rules, run them on one event. */
#include "lua/script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "base/config.h"
#include "grouping/hash.h"
#include "lua/event_table.h"
#include "lua/script_internal.h"

/* Under vm_pcall with (script, grouping module, hooks): keeps references
 * to the functions a run needs, so a run looks nothing up by name. Raises
 * on a wrong type. */
static int script_bind(lua_State *L)
{
    struct script *s = lua_touserdata(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "group");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    s->group_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, 2, "expand_fingerprint");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    s->expand_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    if (lua_isnil(L, 3)) return 0;
    if (!lua_istable(L, 3))
        return luaL_error(L, "the script must return a table of hooks, not a %s",
                          luaL_typename(L, 3));
    static const char *const hooks[] = {"filter", "fingerprint", "format", "scrub", "alert"};
    int *refs[] = {&s->filter_ref, &s->fingerprint_ref, &s->format_ref, &s->scrub_ref,
                   &s->alert_ref};
    for (int i = 0; i < 5; i++) {
        int t = lua_getfield(L, 3, hooks[i]);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TFUNCTION)
            return luaL_error(L, "hook '%s' must be a function, not a %s", hooks[i],
                              luaL_typename(L, -1));
        *refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (lua_getfield(L, 3, "rules") != LUA_TNIL) {
        /* the rules a periscope.sentry_rules handle stands for */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "periscope.sentry_rules");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "unwrap");
        lua_pushvalue(L, -3);
        lua_call(L, 1, 1);
        if (!lua_istable(L, -1))
            return luaL_error(L, "'rules' must come from periscope.sentry_rules(text)");
        s->rules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

/* Under vm_pcall with (script, fingerprint text, stack trace text): the
 * project's stored Sentry-syntax rules, compiled by server code. Raises
 * with the parser's reason when they do not parse. */
static int script_bind_stored_rules(lua_State *L)
{
    struct script *s = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "periscope.sentry_rules");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "compile");
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "fingerprint");
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "stacktrace");
    lua_call(L, 1, 2);
    if (!lua_istable(L, -2)) return luaL_error(L, "grouping rules: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    s->rules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int script_open(const struct vm_limits *limits, const char *source, size_t len, struct script **out,
                struct vm_error *err)
{
    return script_open_rules(limits, source, len, NULL, out, err);
}

int script_open_rules(const struct vm_limits *limits, const char *source, size_t len,
                      const struct script_rules *rules, struct script **out, struct vm_error *err)
{
    return script_open_grouping(limits, SCRIPT_GROUPING_MODULE, source, len, rules, out, err);
}

int script_open_grouping(const struct vm_limits *limits, const char *grouping_module,
                         const char *source, size_t len, const struct script_rules *rules,
                         struct script **out, struct vm_error *err)
{
    struct script *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->group_ref = s->expand_ref = LUA_NOREF;
    s->filter_ref = s->fingerprint_ref = s->format_ref = s->scrub_ref = s->rules_ref = LUA_NOREF;
    s->alert_ref = s->render_ref = s->render_digest_ref = s->encode_ref = LUA_NOREF;
    int rc = vm_new(limits, &s->vm, err);
    if (rc != 0) goto fail;
    lua_State *L = vm_lua(s->vm);
    rc = -EIO;
    if (vm_require(s->vm, grouping_module, err) != 0) goto fail;
    if (!source) {
        lua_pushnil(L);
    } else {
        rc = -EINVAL;
        if (vm_load_operator_chunk(s->vm, source, len, err) != 0 || vm_pcall(s->vm, 0, 1, err) != 0)
            goto fail;
    }
    /* stack: module, hooks */
    lua_pushcfunction(L, script_bind);
    lua_pushlightuserdata(L, s);
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    if (vm_pcall(s->vm, 3, 0, err) != 0) {
        if (err && err->kind == VM_ERROR_RUNTIME) err->kind = VM_ERROR_TYPE;
        rc = -EINVAL;
        goto fail;
    }
    if (s->rules_ref == LUA_NOREF && script_rules_present(rules)) {
        lua_pushcfunction(L, script_bind_stored_rules);
        lua_pushlightuserdata(L, s);
        lua_pushstring(L, rules->fingerprint ? rules->fingerprint : "");
        lua_pushstring(L, rules->stacktrace ? rules->stacktrace : "");
        if (vm_pcall(s->vm, 3, 0, err) != 0) {
            rc = -EINVAL;
            goto fail;
        }
    }
    lua_settop(L, 0);
    *out = s;
    return 0;
fail:
    script_close(s);
    return rc;
}

bool script_rules_present(const struct script_rules *rules)
{
    return rules && ((rules->fingerprint && rules->fingerprint[0]) ||
                     (rules->stacktrace && rules->stacktrace[0]));
}

void script_close(struct script *s)
{
    if (!s) return;
    vm_free(s->vm);
    free(s);
}

bool script_has_hook(const struct script *s, enum script_hook hook)
{
    if (!s) return false;
    switch (hook) {
    case SCRIPT_HOOK_FILTER:
        return s->filter_ref != LUA_NOREF;
    case SCRIPT_HOOK_FINGERPRINT:
        return s->fingerprint_ref != LUA_NOREF;
    case SCRIPT_HOOK_FORMAT:
        return s->format_ref != LUA_NOREF;
    case SCRIPT_HOOK_SCRUB:
        return s->scrub_ref != LUA_NOREF;
    case SCRIPT_HOOK_ALERT:
        return s->alert_ref != LUA_NOREF;
    }
    return false;
}

struct vm *script_vm(const struct script *s)
{
    return s->vm;
}

int script_hook_call(struct script *s, const struct script_hook_call *call, struct vm_error *err)
{
    lua_State *L = vm_lua(s->vm);
    int top = lua_gettop(L);
    if (!lua_checkstack(L, call->nargs + call->nresults + 8)) {
        vm_error_set(err, VM_ERROR_MEMORY, "Lua stack exhausted");
        return -1;
    }
    int rc = -1;
    lua_pushcfunction(L, call->trampoline);
    lua_rawgeti(L, LUA_REGISTRYINDEX, call->ref);
    if (vm_cpcall(s->vm, call->push_args, call->push_ud, call->nargs, err) != 0) goto done;
    if (vm_pcall(s->vm, call->nargs + 1, call->nresults, err) != 0) {
        if (err && err->kind == VM_ERROR_RUNTIME && call->type_error &&
            strstr(err->message, call->type_error))
            err->kind = VM_ERROR_TYPE;
        goto done;
    }
    rc = call->read ? call->read(s, call->read_ud, err) : 0;
done:
    lua_settop(L, top);
    return rc;
}

int script_run_all_hooks(struct script *s, const cJSON *event, struct script_result *res)
{
    int rc = script_run(s, event, false, res);
    if (rc == 0 && res->filtered && res->nerrors == 0) {
        int filter_ref = s->filter_ref;
        s->filter_ref = LUA_NOREF;
        script_result_clear(res);
        rc = script_run(s, event, false, res);
        s->filter_ref = filter_ref;
    }
    return rc;
}

bool script_wants_full_event(const struct script *s)
{
    /* project rules may match any field (release, sdk, ...) */
    return s->filter_ref != LUA_NOREF || s->fingerprint_ref != LUA_NOREF ||
           s->rules_ref != LUA_NOREF;
}

int script_event_max_depth(const struct script *s)
{
    int depth = vm_limits_of(s->vm)->event_max_depth;
    if (depth > 0) return depth;
    struct config d; /* a vm whose limits were built by hand */
    config_defaults(&d);
    return d.max_json_depth;
}

void script_event_args(const struct script *s, const cJSON *event, struct event_table_args *out)
{
    *out = (struct event_table_args){
        .event = event,
        .max_depth = script_event_max_depth(s),
        .fields = script_wants_full_event(s) ? NULL : event_table_grouping_fields,
        .skip_keys = script_wants_full_event(s) ? NULL : event_table_grouping_skip,
        .narrow = script_wants_full_event(s) ? NULL : event_table_grouping_narrow,
    };
}

static void add_error(struct script_result *res, const char *hook, const struct vm_error *e)
{
    if (res->nerrors >= SCRIPT_MAX_ERRORS) return;
    res->errors[res->nerrors].hook = hook;
    res->errors[res->nerrors].error = *e;
    res->nerrors++;
}

/* What a list of strings must look like, passed as light userdata (a
 * static struct: pushing it cannot allocate outside a protected call). */
struct list_rule {
    const char *what;
    lua_Unsigned min, max;
};
static const struct list_rule FINGERPRINT_RULE = {"fingerprint", 1, SCRIPT_FINGERPRINT_MAX_PARTS};
static const struct list_rule EXPANDED_RULE = {"expanded fingerprint", 1, 4096};
static const struct list_rule COMPONENTS_RULE = {"grouping components", 0, 4096};

/* Under vm_pcall with (rule, value): raises unless value is a list of
 * rule->min..rule->max strings; returns it. */
static int check_string_list(lua_State *L)
{
    const struct list_rule *rule = lua_touserdata(L, 1);
    if (!lua_istable(L, 2))
        return luaL_error(L, "%s must be a list of strings, not a %s", rule->what,
                          luaL_typename(L, 2));
    lua_Unsigned n = lua_rawlen(L, 2);
    if (n < rule->min || n > rule->max)
        return luaL_error(L, "%s must be a list of %d to %d strings", rule->what, (int)rule->min,
                          (int)rule->max);
    for (lua_Unsigned i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 2, (lua_Integer)i) != LUA_TSTRING)
            return luaL_error(L, "%s[%d] must be a string, not a %s", rule->what, (int)i,
                              luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    return 1;
}

/* Under vm_pcall with the grouping result: returns components, title,
 * culprit (strings default to ""). Raises on a wrong shape. */
static int unpack_grouping(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushcfunction(L, check_string_list);
    lua_pushlightuserdata(L, (void *)&COMPONENTS_RULE);
    lua_getfield(L, 1, "components");
    lua_call(L, 2, 1);
    lua_getfield(L, 1, "title");
    if (!lua_isstring(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
    }
    lua_getfield(L, 1, "culprit");
    if (!lua_isstring(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
    }
    lua_tostring(L, -1);
    lua_tostring(L, -2);
    return 3;
}

/* Runs the filter hook on the event at ev. Sets res->filtered. */
static void run_filter(struct script *s, int ev, struct script_result *res)
{
    lua_State *L = vm_lua(s->vm);
    struct vm_error e;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->filter_ref);
    lua_pushvalue(L, ev);
    if (vm_pcall(s->vm, 1, 1, &e) != 0) {
        add_error(res, "filter", &e);
        return;
    }
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        res->filtered = !lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1)) {
        char text[128];
        snprintf(text, sizeof text, "filter must return a boolean, not a %s", luaL_typename(L, -1));
        vm_error_set(&e, VM_ERROR_TYPE, text);
        add_error(res, "filter", &e);
    }
    lua_pop(L, 1);
}

/* Validates the value on top as a fingerprint list, in place; returns 0 or
 * -1 (value popped, error recorded with kind TYPE unless worse). */
static int check_top_list(struct script *s, const struct list_rule *rule, const char *hook,
                          struct script_result *res)
{
    lua_State *L = vm_lua(s->vm);
    struct vm_error e;
    lua_pushcfunction(L, check_string_list);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, (void *)rule);
    lua_insert(L, -2);
    if (vm_pcall(s->vm, 2, 1, &e) != 0) {
        if (e.kind == VM_ERROR_RUNTIME) e.kind = VM_ERROR_TYPE;
        add_error(res, hook, &e);
        return -1;
    }
    return 0;
}

/* fingerprint(event, default components) then expand_fingerprint(event,
 * list, default result): on success replaces the components at comp. */
static void run_fingerprint(struct script *s, int ev, int result, int comp,
                            struct script_result *res)
{
    lua_State *L = vm_lua(s->vm);
    struct vm_error e;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fingerprint_ref);
    lua_pushvalue(L, ev);
    lua_pushvalue(L, comp);
    if (vm_pcall(s->vm, 2, 1, &e) != 0) {
        add_error(res, "fingerprint", &e);
        return;
    }
    if (check_top_list(s, &FINGERPRINT_RULE, "fingerprint", res) != 0) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->expand_ref);
    lua_insert(L, -2);
    lua_pushvalue(L, ev);
    lua_insert(L, -2);
    lua_pushvalue(L, result);
    if (vm_pcall(s->vm, 3, 1, &e) != 0) {
        add_error(res, "fingerprint", &e);
        return;
    }
    if (check_top_list(s, &EXPANDED_RULE, "fingerprint", res) != 0) return;
    lua_replace(L, comp);
}

/* MD5 over the list at comp (validated strings, kept alive by the table). */
static int hash_components(lua_State *L, int comp, char out[33])
{
    size_t n = lua_rawlen(L, comp);
    const char **values = calloc(n ? n : 1, sizeof *values);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    int rc = -ENOMEM;
    if (!values || !lens) goto done;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, comp, (lua_Integer)i + 1);
        values[i] = lua_tolstring(L, -1, &lens[i]);
        lua_pop(L, 1);
    }
    rc = grouping_hash(values, lens, n, out);
done:
    free(values);
    free(lens);
    return rc;
}

static int copy_components(lua_State *L, int comp, struct script_result *res)
{
    size_t n = lua_rawlen(L, comp);
    res->components = calloc(n ? n : 1, sizeof *res->components);
    if (!res->components) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, comp, (lua_Integer)i + 1);
        size_t len;
        const char *v = lua_tolstring(L, -1, &len);
        res->components[i] = strndup(v, len);
        lua_pop(L, 1);
        if (!res->components[i]) return -ENOMEM;
        res->ncomponents = i + 1;
    }
    return 0;
}

int script_run(struct script *s, const cJSON *event, bool want_components,
               struct script_result *res)
{
    lua_State *L = vm_lua(s->vm);
    struct vm_error e;
    memset(res, 0, sizeof *res);
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 16)) {
        vm_error_set(&e, VM_ERROR_MEMORY, "Lua stack exhausted");
        add_error(res, "event", &e);
        return -EIO;
    }
    struct event_table_args args;
    script_event_args(s, event, &args);
    if (vm_cpcall(s->vm, event_table_push, &args, 1, &e) != 0) {
        add_error(res, "event", &e);
        goto fail;
    }
    int ev = top + 1, result = top + 2, comp = top + 3, title = top + 4, culprit = top + 5;
    if (s->filter_ref != LUA_NOREF) {
        run_filter(s, ev, res);
        if (res->filtered) {
            lua_settop(L, top);
            return 0;
        }
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->group_ref);
    lua_pushvalue(L, ev);
    if (s->rules_ref != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->rules_ref);
    else
        lua_pushnil(L);
    if (vm_pcall(s->vm, 2, 1, &e) != 0) {
        add_error(res, "grouping", &e);
        goto fail;
    }
    lua_pushcfunction(L, unpack_grouping);
    lua_pushvalue(L, result);
    if (vm_pcall(s->vm, 1, 3, &e) != 0) {
        if (e.kind == VM_ERROR_RUNTIME) e.kind = VM_ERROR_TYPE;
        add_error(res, "grouping", &e);
        goto fail;
    }
    if (s->fingerprint_ref != LUA_NOREF) run_fingerprint(s, ev, result, comp, res);
    if (hash_components(L, comp, res->hash) != 0) goto fail;
    res->title = strdup(lua_tostring(L, title));
    res->culprit = strdup(lua_tostring(L, culprit));
    if (!res->title || !res->culprit) goto fail;
    if (want_components && copy_components(L, comp, res) != 0) goto fail;
    lua_settop(L, top);
    return 0;
fail:
    lua_settop(L, top);
    script_result_clear(res);
    return -EIO;
}

void script_result_clear(struct script_result *res)
{
    free(res->title);
    free(res->culprit);
    for (size_t i = 0; i < res->ncomponents; i++)
        free(res->components[i]);
    free(res->components);
    res->title = res->culprit = NULL;
    res->components = NULL;
    res->ncomponents = 0;
}

int script_hook_line(const struct script *s, const char *hook)
{
    int ref = strcmp(hook, "filter") == 0        ? s->filter_ref
              : strcmp(hook, "fingerprint") == 0 ? s->fingerprint_ref
              : strcmp(hook, "format") == 0      ? s->format_ref
              : strcmp(hook, "scrub") == 0       ? s->scrub_ref
              : strcmp(hook, "alert") == 0       ? s->alert_ref
                                                 : LUA_NOREF;
    lua_State *L = vm_lua(s->vm);
    if (ref == LUA_NOREF || !lua_checkstack(L, 1)) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_Debug ar;
    if (!lua_getinfo(L, ">S", &ar)) /* pops the function */
        return 0;
    return strcmp(ar.source, "=" VM_OPERATOR_CHUNK) == 0 && ar.linedefined > 0 ? ar.linedefined : 0;
}
