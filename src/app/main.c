/* periscope — the one binary: serve, migrate, project create, version.
 *
 * Exit codes: 0 success, 1 a runtime failure (database, port in use), 2 a
 * usage or configuration error. Results meant for people or scripts (DSNs,
 * the freshly generated admin key) go to stdout; logs go to stderr and
 * never carry the admin key. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/file_modes.h"
#include "http/dsn.h"
#include "http/http.h"
#include "base/log.h"
#include "scripts/rules_check.h"
#include "app/app.h"
#include "lua/registry.h"
#include "store/destinations.h"
#include "store/projects.h"
#include "store/store.h"
#include "app/user_cli.h"

#ifndef PERISCOPE_VERSION
#define PERISCOPE_VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
#define DEFAULT_PROJECT_NAME "default"
#define SERVE_DSNS_SHOWN 20 /* serve prints the DSNs of at most this many projects */

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *usage;
};

static const struct command *find_command(const char *name);
static int usage_top(FILE *out, int code);

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    return false;
}

static int usage_of(const char *name, FILE *out, int code)
{
    fprintf(out, "%s", find_command(name)->usage);
    return code;
}

/* Commands without arguments: --help prints the usage, anything else is an error. */
static int extra_args(const char *name, int argc, char **argv)
{
    bool help = wants_help(argc, argv);
    return usage_of(name, help ? stdout : stderr, help ? 0 : EXIT_USAGE);
}

/* Config and logging, the start of every command that touches the database. */
static int setup(struct config *cfg)
{
    char err[256];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        return EXIT_USAGE;
    }
    log_init(cfg->log_format, cfg->debug);
    if (config_prepare_data_dir(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        return EXIT_FAILURE;
    }
    return 0;
}

/* A database error as one printable line: a damaged file's message may
 * quote its bytes (a malformed schema). */
static const char *one_line(char *msg)
{
    const size_t max = 300;
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p >= 0x7f) *p = '?';
    if (strlen(msg) > max) strcpy(msg + max - 3, "...");
    return msg;
}

static int open_store(const struct config *cfg, struct store **st)
{
    char err[512];
    if (store_open(cfg, st, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: database: %s\n", one_line(err));
        return EXIT_FAILURE;
    }
    return 0;
}

static void print_dsn(const struct config *cfg, const char *name, int64_t id, const char *key)
{
    char *dsn = dsn_build(cfg, key, id);
    printf("DSN for project \"%s\" (id %lld): %s\n", name, (long long)id, dsn ? dsn : "?");
    free(dsn);
}

/* First run: a project called "default". Then the DSNs of the first projects. */
static int announce_projects(const struct config *cfg, struct store *st)
{
    struct db *db = store_acquire(st);
    int64_t count, id;
    char key[PUBLIC_KEY_HEX + 1];
    cJSON *rows = NULL, *row;
    size_t i;
    int rc = projects_count(db, &count);
    if (rc == 0 && count == 0 && (rc = projects_create(db, DEFAULT_PROJECT_NAME, &id, key)) == 0) {
        log_info("created the first project", "name=%s id=%lld", DEFAULT_PROJECT_NAME,
                 (long long)id);
        printf("Created project \"%s\".\n", DEFAULT_PROJECT_NAME);
    }
    if (rc == 0) rc = projects_list(db, 0, SERVE_DSNS_SHOWN, &rows);
    store_release(st, db);
    if (rc) {
        fprintf(stderr, "periscope: database: cannot read projects: %s\n", strerror(-rc));
        return EXIT_FAILURE;
    }
    json_array_each(rows, i, row)
    {
        const char *k = json_str(json_get(row, "public_key"));
        if (k) print_dsn(cfg, json_str(json_get(row, "name")), json_i64(json_get(row, "id")), k);
    }
    if (json_size(rows) == SERVE_DSNS_SHOWN) printf("(more projects: GET /api/admin/projects)\n");
    cJSON_Delete(rows);
    return 0;
}

/* With a secrets key, destination settings still stored in clear (from
 * before the key was set) are sealed now. */
static int seal_destinations(struct store *st)
{
    struct db *db = store_acquire(st);
    int sealed = 0;
    int rc = destinations_seal_plaintext(db, &sealed);
    store_release(st, db);
    if (rc < 0) {
        fprintf(stderr, "periscope: database: cannot seal destination secrets: %s\n",
                strerror(-rc));
        return EXIT_FAILURE;
    }
    if (sealed > 0) log_info("destination secrets sealed", "destinations=%d", sealed);
    return 0;
}

/* SIGHUP: operators reload the projects' scripts without a restart. */
static void on_reload_signal(struct server *srv)
{
    int rc = script_registry_reload_all(srv->scripts);
    if (rc < 0)
        log_error("SIGHUP: scripts reload failed", "error=%s", strerror(-rc));
    else
        log_info("SIGHUP: scripts reloaded", "published=%d", rc);
}

/* Blocks until SIGTERM or SIGINT; the signals are blocked in every thread,
 * so only this sigwait sees them. */
static void wait_for_stop(struct server *srv, const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            on_reload_signal(srv);
            continue;
        }
        log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

static int cmd_serve(int argc, char **argv)
{
    if (argc > 1) return extra_args("serve", argc, argv);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread exists */
    signal(SIGPIPE, SIG_IGN);

    struct config cfg;
    struct server srv = {.cfg = &cfg, .http.listen_fd = -1};
    char err[512];
    int rc = setup(&cfg);
    if (rc) return rc;
    /* The port first: a server that cannot serve touches no database. */
    if (http_listen(&cfg, &srv.http.listen_fd, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        return EXIT_FAILURE;
    }
    log_info("files", "share=%s lua_dir=%s migrations_dir=%s",
             cfg.share_dir ? cfg.share_dir : "(LUA_DIR and MIGRATIONS_DIR)", cfg.lua_dir,
             cfg.migrations_dir);
    if ((rc = config_resolve_admin_key(&cfg, err, sizeof err)) != 0 ||
        (rc = config_resolve_secrets_key(&cfg, err, sizeof err)) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        close(srv.http.listen_fd);
        return rc == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
    }
    if ((rc = open_store(&cfg, &srv.store)) != 0) {
        close(srv.http.listen_fd);
        return rc;
    }
    file_modes_warn(&cfg);
    if ((rc = seal_destinations(srv.store)) != 0) goto fail_store;
    if ((rc = announce_projects(&cfg, srv.store)) != 0) goto fail_store;
    if (cfg.admin_key_generated)
        printf("admin key: %s\n(stored in %s/admin.key; it is shown only this once)\n",
               cfg.admin_key, cfg.data_dir);
    if ((rc = user_cli_announce_setup(&cfg, srv.store)) != 0) goto fail_store;
    if (server_start(&srv, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        rc = EXIT_FAILURE;
        goto fail_store;
    }
    printf("Periscope %s listening on %s\n", PERISCOPE_VERSION, cfg.public_url);
    fflush(stdout);

    wait_for_stop(&srv, &set);
    if (server_stop(&srv) != 0) {
        /* A thread is stuck in C and may still use the store: no teardown. */
        fflush(stdout);
        fflush(stderr);
        _exit(EXIT_FAILURE);
    }
    store_close(srv.store);
    log_info("stopped", NULL);
    return 0;

fail_store:
    if (srv.http.listen_fd >= 0) close(srv.http.listen_fd);
    store_close(srv.store);
    return rc;
}

static int cmd_migrate(int argc, char **argv)
{
    if (argc > 1) return extra_args("migrate", argc, argv);
    struct config cfg;
    struct store *st;
    int rc = setup(&cfg);
    if (rc || (rc = open_store(&cfg, &st))) return rc;
    store_close(st);
    printf("Migrations applied; the %s database is up to date.\n",
           cfg.postgres_enabled ? "Postgres" : "SQLite");
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    if (argc > 1) return extra_args("check", argc, argv);
    struct config cfg;
    char msg[512];
    int rc = setup(&cfg);
    if (rc) return rc;
    if (store_check_database(&cfg, msg, sizeof msg) != 0) {
        fprintf(stderr, "periscope: database check failed: %s\n", one_line(msg));
        return EXIT_FAILURE;
    }
    printf("The %s database passed the full check.\n",
           cfg.postgres_enabled ? "Postgres" : "SQLite");
    return 0;
}

static int cmd_project(int argc, char **argv)
{
    if (wants_help(argc, argv)) return usage_of("project", stdout, 0);
    if (argc != 3 || strcmp(argv[1], "create") != 0) return usage_of("project", stderr, EXIT_USAGE);
    const char *name = argv[2];
    size_t len = strlen(name);
    if (len == 0 || len > PROJECT_NAME_MAX) {
        fprintf(stderr, "periscope: NAME must be 1 to %d characters\n", PROJECT_NAME_MAX);
        return EXIT_USAGE;
    }

    struct config cfg;
    struct store *st;
    int64_t id;
    char key[PUBLIC_KEY_HEX + 1];
    int rc = setup(&cfg);
    if (rc || (rc = open_store(&cfg, &st))) return rc;
    struct db *db = store_acquire(st);
    rc = projects_create(db, name, &id, key);
    store_release(st, db);
    store_close(st);
    if (rc) {
        fprintf(stderr, "periscope: cannot create the project: %s\n", strerror(-rc));
        return EXIT_FAILURE;
    }
    char *dsn = dsn_build(&cfg, key, id);
    if (!dsn) return EXIT_FAILURE;
    printf("%s\n", dsn);
    free(dsn);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1) return extra_args("version", argc, argv);
    printf("periscope %s\n", PERISCOPE_VERSION);
    return 0;
}

/* Every subcommand is one row: a module with its own entry point (e.g.
 * `rules check` in src/scripts/rules_check.c) adds its row and usage text here. */
static const struct command commands[] = {
    {"serve", cmd_serve,
     "usage: periscope serve\n\n"
     "Applies migrations, creates a project \"default\" when there is none, prints the\n"
     "DSNs (and the admin key when it was just generated), and serves the Sentry\n"
     "ingestion endpoints and the admin API until SIGTERM or SIGINT. SIGHUP reloads\n"
     "the projects' scripts. Configuration comes from the environment (see README).\n"},
    {"migrate", cmd_migrate,
     "usage: periscope migrate\n\n"
     "Applies the database migrations that have not run yet (idempotent) and exits.\n"},
    {"check", cmd_check,
     "usage: periscope check\n\n"
     "Checks the whole database without changing it (SQLite: integrity_check and\n"
     "foreign_key_check; Postgres: every table read through). Exit 0 when whole, 1\n"
     "with the first problem found.\n"},
    {"project", cmd_project,
     "usage: periscope project create NAME\n\n"
     "Creates a project called NAME with a first key and prints its DSN.\n"},
    {"rules", rules_check_command, rules_check_usage},
    {"user", user_cli_command, user_cli_usage},
    {"version", cmd_version, "usage: periscope version\n\nPrints the version.\n"},
    {NULL, NULL, NULL},
};

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static int usage_top(FILE *out, int code)
{
    fprintf(out, "usage: periscope COMMAND [ARGS]\n\n"
                 "A Sentry-compatible error aggregator.\n\n"
                 "commands:\n"
                 "  serve                 run the server\n"
                 "  migrate               apply database migrations\n"
                 "  check                 check the whole database (read only)\n"
                 "  project create NAME   create a project and print its DSN\n"
                 "  rules check SCRIPT --event EVENT.json\n"
                 "                        dry-run a project script offline\n"
                 "  user create EMAIL --role ROLE | user reset-password EMAIL\n"
                 "                        manage accounts offline\n"
                 "  version               print the version\n\n"
                 "Run `periscope COMMAND --help` for a command's details.\n");
    return code;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* DSNs and the key show up at once, even piped */
    if (argc < 2) return usage_top(stderr, EXIT_USAGE);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0)
        return usage_top(stdout, 0);
    if (strcmp(argv[1], "--version") == 0) return cmd_version(1, argv + 1);
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "periscope: unknown command \"%s\"\n", argv[1]);
        return usage_top(stderr, EXIT_USAGE);
    }
    return c->run(argc - 1, argv + 1);
}
