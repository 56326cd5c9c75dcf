/* grouping/config — the id of the default grouping: Sentry's grouping
 * config whose hashes lua/periscope/grouping.lua reproduces (there as
 * GROUPING_CONFIG; tests/test_grouping_config.c checks the two agree).
 * Changing the default grouping means a new id: a grouping transition
 * (issues keep their events; hashes of new events change). */
#ifndef PERISCOPE_GROUPING_CONFIG_H
#define PERISCOPE_GROUPING_CONFIG_H

#define GROUPING_CONFIG_ID "newstyle:2026-01-20"

#endif
