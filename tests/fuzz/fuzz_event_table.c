/* libFuzzer target: JSON to Lua and back — an event's cJSON tree pushed as
 * a Lua table (lua/event_table.c: the whole event, and the grouping's
 * narrowed view with its memo digest), that table through
 * periscope.json.encode, and the bytes themselves through
 * periscope.json.decode (lua/json.c). One capped vm for the run; a call
 * may fail (too deep, not JSON, the cap), never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "model/jsoncheck.h"
#include "lua/event_table.h"
#include "lua/grouping_memo.h"
#include "lua/vm.h"

static struct vm *vm;

static struct vm *the_vm(void)
{
    if (vm) return vm;
    struct vm_limits limits;
    vm_limits_from_config(NULL, &limits);
    limits.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    struct vm_error err;
    if (vm_new(&limits, &vm, &err) != 0) abort();
    return vm;
}

/* Under vm_cpcall with (table): encode it, decode the text, compare its
 * length with a second encoding. Raises on the cap, depth, sparse arrays. */
static int round_trip(lua_State *L)
{
    lua_getglobal(L, "periscope");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "encode");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_getfield(L, -2, "decode");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    return 0;
}

/* Under vm_cpcall with (light userdata: the input as a Lua string's bytes). */
static int decode_bytes(lua_State *L)
{
    const struct {
        const uint8_t *p;
        size_t n;
    } *in = lua_touserdata(L, 1);
    lua_getglobal(L, "periscope");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "decode");
    lua_pushlstring(L, (const char *)in->p, in->n);
    lua_call(L, 1, 1);
    return 0;
}

static void push_and_round_trip(struct vm *v, struct event_table_args *args)
{
    struct vm_error err;
    if (vm_cpcall(v, event_table_push, args, 1, &err) != 0) return;
    lua_pushcfunction(vm_lua(v), round_trip);
    lua_insert(vm_lua(v), -2);
    vm_pcall(v, 1, 0, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm *v = the_vm();
    struct vm_error err;
    struct {
        const uint8_t *p;
        size_t n;
    } in = {data, size};
    vm_cpcall(v, decode_bytes, &in, 0, &err);

    char *buf = malloc(size ? size : 1); /* exact size: a read past the end is caught */
    if (!buf) return 0;
    memcpy(buf, data, size);
    cJSON *json = NULL;
    const char *why;
    if (jsoncheck_parse_event(buf, size, 64, &json, &why) == 0) {
        struct event_table_args whole = {.event = json, .max_depth = 64};
        push_and_round_trip(v, &whole);
        struct event_table_args grouping = {
            .event = json,
            .max_depth = 64,
            .fields = event_table_grouping_fields,
            .skip_keys = event_table_grouping_skip,
            .narrow = event_table_grouping_narrow,
        };
        push_and_round_trip(v, &grouping);
        struct grouping_memo_key key;
        grouping_memo_key(&grouping, 1, 1, &key);
        cJSON_Delete(json);
    }
    free(buf);
    lua_settop(vm_lua(v), 0);
    lua_gc(vm_lua(v), LUA_GCCOLLECT);
    return 0;
}
