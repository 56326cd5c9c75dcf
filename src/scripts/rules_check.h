/* rules_check — `periscope rules check SCRIPT.lua --event EVENT.json
 * [--format TYPE] [--json]`: the admin API's dry run, offline (no database,
 * no server), for an operator's editor or CI. Prints a readable report, or
 * with --json the same object as POST …/script/test.
 *
 * Exit codes: 0 the script ran cleanly on the event; 1 it did not compile
 * or a hook failed (the report says where); 2 usage error or an unreadable
 * file or event. Runs on the main thread of the CLI only. */
#ifndef PERISCOPE_RULES_CHECK_H
#define PERISCOPE_RULES_CHECK_H

extern const char rules_check_usage[];

/* argv[0] is "rules". */
int rules_check_command(int argc, char **argv);

#endif
