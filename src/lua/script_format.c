/* lua/script_format — format() and the default formatters in one vm. */
#include "lua/script_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "lua/alert_table.h"
#include "lua/script_internal.h"

#define FORMAT_MODULE "periscope.format"
#define FORMAT_TYPE_ERROR "format must return"

void script_message_clear(struct script_message *m)
{
    free(m->body);
    free(m->content_type);
    free(m->subject);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof *m);
}

/* Under vm_cpcall with the script: keeps references to the formatter's
 * entry points and the JSON encoder. Raises when the module lacks them. */
static int bind_formatters(lua_State *L)
{
    struct script *s = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, FORMAT_MODULE);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "render");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_getfield(L, -2, "render_digest");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_getglobal(L, "periscope");
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_getfield(L, -1, "json");
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_getfield(L, -1, "encode");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    s->encode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 2);
    s->render_digest_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->render_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int bind(struct script *s, char *err, size_t errlen)
{
    if (s->render_ref != LUA_NOREF) return 0;
    struct vm_error e;
    if (vm_cpcall(s->vm, bind_formatters, s, 0, &e) == 0) return 0;
    snprintf(err, errlen, "the default formatters did not load: %s", e.message);
    return -EINVAL;
}

static char *dup_at(lua_State *L, int idx)
{
    size_t len;
    const char *v = lua_tolstring(L, idx, &len);
    if (!v) return NULL;
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, v, len);
        copy[len] = '\0';
    }
    return copy;
}

/* What the caller of render() puts after the alert and destination. */
struct render_input {
    const struct alert_table_args *args;
    int message; /* stack index of the hook's result, or 0: the default */
};

/* Runs format.render(alert, dest, message, encode) — or render_digest —
 * and reads what it returns into out: subject, text, html for email, else
 * body and content type. 0, or -EINVAL with err. */
static int render(struct script *s, const struct render_input *in, struct script_message *out,
                  enum vm_error_kind *kind, char *err, size_t errlen)
{
    *kind = VM_ERROR_RUNTIME;
    memset(out, 0, sizeof *out);
    if (bind(s, err, errlen) != 0) return -EINVAL;
    lua_State *L = vm_lua(s->vm);
    int top = lua_gettop(L);
    struct vm_error e;
    if (!lua_checkstack(L, 8)) {
        snprintf(err, errlen, "Lua stack exhausted");
        return -EINVAL;
    }
    bool digest = in->args->shape == ALERT_TABLE_DIGEST;
    lua_rawgeti(L, LUA_REGISTRYINDEX, digest ? s->render_digest_ref : s->render_ref);
    int nargs = 3;
    if (vm_cpcall(s->vm, alert_table_push, (void *)in->args, 2, &e) != 0) goto fail;
    if (!digest) {
        if (in->message)
            lua_pushvalue(L, in->message);
        else
            lua_pushnil(L);
        nargs = 4;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->encode_ref);
    if (vm_pcall(s->vm, nargs, 3, &e) != 0) goto fail;
    const char *type = in->args->dest->type ? in->args->dest->type : "";
    bool email = strcmp(type, "email") == 0;
    if (email) {
        out->subject = dup_at(L, -3);
        out->text = dup_at(L, -2);
        out->html = dup_at(L, -1);
    } else {
        out->body = dup_at(L, -3);
        out->content_type = dup_at(L, -2);
    }
    lua_settop(L, top);
    if (email ? !(out->subject && out->text && out->html) : !(out->body && out->content_type)) {
        script_message_clear(out);
        snprintf(err, errlen, "formatter returned no message");
        return -EINVAL;
    }
    return 0;
fail:
    lua_settop(L, top);
    *kind = e.kind;
    snprintf(err, errlen, "%s", e.message);
    return -EINVAL;
}

/* Under vm_pcall with (hook, alert, destination): calls the hook and
 * returns nil, false, its string or its table. Raises on any other type. */
static int format_call(lua_State *L)
{
    lua_call(L, 2, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL || t == LUA_TSTRING || t == LUA_TTABLE) return 1;
    if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) return 1; /* false: suppress */
    return luaL_error(L, FORMAT_TYPE_ERROR " a table, a string, false or nil, not a %s",
                      luaL_typename(L, -1));
}

/* What became of the hook's result. */
struct hook_outcome {
    const struct alert_table_args *args;
    struct script_message *out;
    enum { HOOK_DEFAULT, HOOK_SUPPRESS, HOOK_MESSAGE, HOOK_UNUSABLE } what;
    enum vm_error_kind kind; /* HOOK_UNUSABLE: why */
    char why[VM_ERROR_MESSAGE_MAX - 32];
};

/* The hook's result on top: false suppresses, nil asks for the default,
 * a table or a string is rendered into the message. */
static int format_read(struct script *s, void *ud, struct vm_error *err)
{
    (void)err;
    struct hook_outcome *o = ud;
    lua_State *L = vm_lua(s->vm);
    if (lua_isnil(L, -1)) {
        o->what = HOOK_DEFAULT;
    } else if (lua_isboolean(L, -1)) {
        o->what = HOOK_SUPPRESS;
    } else {
        struct render_input in = {.args = o->args, .message = lua_gettop(L)};
        o->what = render(s, &in, o->out, &o->kind, o->why, sizeof o->why) == 0 ? HOOK_MESSAGE
                                                                               : HOOK_UNUSABLE;
    }
    return 0;
}

int script_format_alert(struct script *s, const struct alert_data *alert,
                        const struct alert_destination *dest, struct script_message *out,
                        struct vm_error *hook_err, char *err, size_t errlen)
{
    memset(hook_err, 0, sizeof *hook_err);
    memset(out, 0, sizeof *out);
    if (!s) {
        snprintf(err, errlen, "no Lua state to format in");
        return -EINVAL;
    }
    struct alert_table_args args = {
        .shape = ALERT_TABLE_FORMAT, .alerts = alert, .n = 1, .dest = dest};
    if (script_has_hook(s, SCRIPT_HOOK_FORMAT)) {
        struct hook_outcome o = {.args = &args, .out = out};
        struct script_hook_call call = {
            .ref = s->format_ref,
            .trampoline = format_call,
            .push_args = alert_table_push,
            .push_ud = &args,
            .nargs = alert_table_count(ALERT_TABLE_FORMAT),
            .nresults = 1,
            .type_error = FORMAT_TYPE_ERROR,
            .read = format_read,
            .read_ud = &o,
        };
        if (script_hook_call(s, &call, hook_err) == 0) {
            if (o.what == HOOK_SUPPRESS) return 1;
            if (o.what == HOOK_MESSAGE) return 0;
            if (o.what == HOOK_UNUSABLE) {
                char text[VM_ERROR_MESSAGE_MAX];
                snprintf(text, sizeof text, "format() result not usable: %s", o.why);
                vm_error_set(hook_err, o.kind, text);
            }
        }
    }
    struct render_input in = {.args = &args};
    enum vm_error_kind kind;
    return render(s, &in, out, &kind, err, errlen);
}

int script_format_digest(struct script *s, const struct alert_data *alerts, size_t n,
                         const struct alert_destination *dest, struct script_message *out,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!s) {
        snprintf(err, errlen, "no Lua state to format in");
        return -EINVAL;
    }
    struct alert_table_args args = {
        .shape = ALERT_TABLE_DIGEST, .alerts = alerts, .n = n, .dest = dest};
    struct render_input in = {.args = &args};
    enum vm_error_kind kind;
    return render(s, &in, out, &kind, err, errlen);
}
