/* grouping/config: the C id of the default grouping is the one the Lua
 * grouping declares, so a change of the grouping cannot go unversioned on
 * one side. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <lua.h>

#include "grouping/config.h"
#include "lua_helpers.h"

static void test_lua_grouping_declares_the_c_config_id(void **state)
{
    (void)state;
    struct vm_limits limits = test_limits();
    limits.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    struct vm *vm = NULL;
    struct vm_error err = {0};
    assert_int_equal(vm_new(&limits, &vm, &err), 0);
    if (vm_require(vm, "periscope.grouping", &err) != 0) fail_msg("require: %s", err.trace);
    lua_getfield(vm_lua(vm), -1, "GROUPING_CONFIG");
    assert_string_equal(lua_tostring(vm_lua(vm), -1), GROUPING_CONFIG_ID);
    assert_string_equal(GROUPING_CONFIG_ID, "newstyle:2026-01-20");
    lua_settop(vm_lua(vm), 0);
    vm_free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_grouping_declares_the_c_config_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
