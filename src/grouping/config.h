/* grouping/config — the id of the default grouping: Sentry's grouping
 * config whose hashes lua/periscope/grouping.lua reproduces (there as
 * GROUPING_CONFIG; tests/lua/test_grouping_config.c checks the two agree).
 * Changing the default grouping means a new id: a grouping transition
 * (issues keep their events; hashes of new events change). */
#ifndef PERISCOPE_GROUPING_CONFIG_H
#define PERISCOPE_GROUPING_CONFIG_H

#define GROUPING_CONFIG_ID "newstyle:2026-01-20"

/* The Lua module of a default grouping config this build can run:
 * "periscope.grouping" for GROUPING_CONFIG_ID. A new default grouping
 * keeps the one it replaces runnable (its modules under a new name, listed
 * in config.c) so that projects' issues carry over during the transition
 * (README "Grouping transitions"); NULL for a config it no longer has. */
const char *grouping_config_module(const char *config_id);

#endif
