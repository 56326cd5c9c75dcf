/* Shared by the Lua runtime tests: limits as the server's defaults, the
 * fixture grouping module (tests/fixtures/lua), a sample event. */
#ifndef PERISCOPE_TESTS_LUA_HELPERS_H
#define PERISCOPE_TESTS_LUA_HELPERS_H

#include <cjson/cJSON.h>
#include "lua/script.h"

static inline struct vm_limits test_limits(void)
{
    struct vm_limits l = {
        .memory_bytes = 16u << 20,
        .instructions_per_call = 1000000,
        /* Unit tests stop runaway scripts by instruction count, which does
         * not depend on the machine; the wall clock is set far out so a
         * loaded machine under ASan does not turn a memory error into a
         * timeout. Tests of the deadline itself set their own. */
        .time_limit_ms = 30000,
        .script_max_bytes = 256u << 10,
        .event_max_depth = 64,
        .lua_dir = PERISCOPE_SOURCE_DIR "/tests/fixtures/lua",
    };
    return l;
}

static inline cJSON *sample_event(void)
{
    return cJSON_Parse(
        "{\"event_id\":\"0123456789abcdef0123456789abcdef\","
        "\"level\":\"error\",\"environment\":\"prod\",\"release\":\"1.0\","
        "\"tags\":{\"region\":\"eu\"},"
        "\"exception\":{\"values\":[{\"type\":\"ValueError\",\"value\":\"bad input\","
        "\"module\":\"app.views\"}]}}");
}

#endif
