/* lua/alert_table — an alert (model/alert.h: struct alert_data) pushed into
 * Lua as the table lua/periscope/format.lua documents, straight from the C
 * struct: no JSON on the way. Absent strings are absent keys (nil), times
 * are RFC 3339 UTC with milliseconds, `link` (also issue.link) is
 * <public_url>/projects/<project id>/issues/<issue id>, and the top-level
 * title, culprit and level are the issue's.
 *
 * Called under vm_cpcall on the thread that owns the state (the tables
 * count against its memory cap); the structs are borrowed. */
#ifndef PERISCOPE_LUA_ALERT_TABLE_H
#define PERISCOPE_LUA_ALERT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

#include "model/alert.h"

enum alert_table_shape {
    ALERT_TABLE_FORMAT, /* (alert, destination): format() and the default formatters */
    ALERT_TABLE_DIGEST, /* ({alert, …}, destination): the digest formatter */
    ALERT_TABLE_ROUTE,  /* (alert, alert.issue, alert.event): the alert() hook */
};

struct alert_table_args {
    enum alert_table_shape shape;
    const struct alert_data *alerts; /* one, or n for a digest */
    size_t n;
    const struct alert_destination *dest; /* FORMAT and DIGEST */
};

/* lua_CFunction for vm_cpcall: argument 1 is a struct alert_table_args*
 * (light userdata); returns the shape's values (2, 2 or 3 of them). Raises
 * on the memory cap. */
int alert_table_push(lua_State *L);

/* How many values alert_table_push returns for shape. */
int alert_table_count(enum alert_table_shape shape);

/* RFC 3339 UTC with milliseconds: "2026-11-25T18:00:00.123Z". */
void alert_table_time(long long ms, char out[32]);

#endif
