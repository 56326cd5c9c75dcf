/* user_cli — the accounts side of the `periscope` command: the first-run
 * setup link printed by `serve`, and `periscope user create|reset-password`
 * (offline, on the configured database).
 *
 * Main thread; prints results to stdout, errors to stderr, never a
 * password. */
#ifndef PERISCOPE_USER_CLI_H
#define PERISCOPE_USER_CLI_H

struct config;
struct store;

#define SETUP_LINK_VALID_MS (24LL * 3600 * 1000)

/* When no user exists: stores a fresh one-time setup link (replacing any
 * earlier one) and prints "setup link: PUBLIC_URL/setup?token=…". 0, or
 * EXIT_FAILURE after printing the database error. */
int user_cli_announce_setup(const struct config *cfg, struct store *st);

/* `periscope user …`: argv[0] is "user". Returns the exit code. */
int user_cli_command(int argc, char **argv);
extern const char user_cli_usage[];

#endif
