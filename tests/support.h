/* support — shared helpers for the cmocka tests (header-only).
 *
 * A test gets a backend of its own so that tests running in parallel
 * (ctest -j) never see each other's rows:
 *   - SQLite: a fresh database file in a mkdtemp directory;
 *   - Postgres: a fresh, uniquely named database in the throwaway cluster
 *     that tests/pg_cluster.sh started (the file named by
 *     $PERISCOPE_TEST_PG_ENV holds its POSTGRES_* variables), cloned from
 *     the cluster's migrated template (CREATE DATABASE … TEMPLATE), so
 *     store_open finds every migration applied instead of running them.
 *     Only the tests listed in PG_TESTS (CMakeLists.txt) have the variable.
 *
 * Typical use, running every test against both backends:
 *
 *   static void test_something(void **state) {
 *       struct test_store *ts = *state;
 *       struct db *db = store_writer(ts->store);
 *       ...
 *   }
 *   const struct CMUnitTest tests[] = { TEST_BOTH(test_something) };
 *
 * Memory: a struct test_backend owns every string its config points to. */
#ifndef PERISCOPE_TEST_SUPPORT_H
#define PERISCOPE_TEST_SUPPORT_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "base/config.h"
#include "model/event_tags.h"
#include "store/db.h"
#include "store/projects.h"
#include "store/store.h"

#define TEST_PG_NAME_MAX 64

struct test_backend {
    struct config cfg;
    bool postgres;
    char dir[PATH_MAX]; /* SQLite: the temp dir (also cfg.data_dir) */
    char sqlite_path[PATH_MAX + 16];
    char pg_host[256];
    char pg_user[128];
    char pg_password[256];
    char pg_maint_db[TEST_PG_NAME_MAX]; /* the env file's database */
    char pg_template[TEST_PG_NAME_MAX]; /* the migrated template ("": none) */
    char pg_database[TEST_PG_NAME_MAX]; /* this test's own database */
};

/* config_defaults (what config_load gives with an empty environment), and
 * what a test changes: a fixed admin key and thread counts, the source
 * tree's Lua modules and migrations, text logs, no SQLite path until a
 * backend sets one, no spool (tests see a failed write, not a spooled
 * one), and counts flushed with every batch (a test reads them right after
 * the acknowledgement). Tests must not depend on the environment they run
 * in, so nothing here reads it. */
static inline void test_config_defaults(struct config *cfg)
{
    config_defaults(cfg);
    cfg->admin_key = "test-admin-key-0123456789abcdef-0123";
    cfg->http_threads = 2;
    cfg->workers = 2;
    cfg->lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    cfg->migrations_dir = PERISCOPE_SOURCE_DIR "/migrations";
    cfg->sqlite_path = NULL;
    cfg->spool_max_bytes = 0;
    cfg->counter_flush_ms = 0;
    cfg->log_format = LOG_FORMAT_TEXT;
}

/* A fresh SQLite database in a new temp dir. 0 or negative errno. */
static inline int test_backend_sqlite(struct test_backend *tb)
{
    memset(tb, 0, sizeof *tb);
    test_config_defaults(&tb->cfg);
    const char *tmp = getenv("TMPDIR");
    snprintf(tb->dir, sizeof tb->dir, "%s/periscope-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tb->dir)) return -errno;
    snprintf(tb->sqlite_path, sizeof tb->sqlite_path, "%s/periscope.db", tb->dir);
    tb->cfg.data_dir = tb->dir;
    tb->cfg.sqlite_path = tb->sqlite_path;
    return 0;
}

/* Reads KEY=VALUE lines of the pg_cluster.sh env file into tb (pointing at
 * the maintenance database). -ENOENT when there is no such file. */
static inline int test_pg_env_load(struct test_backend *tb)
{
    const char *path = getenv("PERISCOPE_TEST_PG_ENV");
    if (!path || !*path) {
        fprintf(stderr, "PERISCOPE_TEST_PG_ENV is not set: run the tests through ctest, and "
                        "list a test that uses Postgres in PG_TESTS (CMakeLists.txt)\n");
        return -ENOENT;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s (is the pg fixture running?)\n", path, strerror(errno));
        return -ENOENT;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(line, "POSTGRES_HOST"))
            snprintf(tb->pg_host, sizeof tb->pg_host, "%s", v);
        else if (!strcmp(line, "POSTGRES_PORT"))
            tb->cfg.pg_port = atoi(v);
        else if (!strcmp(line, "POSTGRES_USER"))
            snprintf(tb->pg_user, sizeof tb->pg_user, "%s", v);
        else if (!strcmp(line, "POSTGRES_PASSWORD"))
            snprintf(tb->pg_password, sizeof tb->pg_password, "%s", v);
        else if (!strcmp(line, "POSTGRES_DATABASE"))
            snprintf(tb->pg_maint_db, sizeof tb->pg_maint_db, "%s", v);
        else if (!strcmp(line, "POSTGRES_TEMPLATE"))
            snprintf(tb->pg_template, sizeof tb->pg_template, "%s", v);
    }
    fclose(f);
    tb->cfg.postgres_enabled = true;
    tb->cfg.pg_host = tb->pg_host;
    tb->cfg.pg_user = tb->pg_user;
    tb->cfg.pg_password = tb->pg_password;
    tb->cfg.pg_database = tb->pg_maint_db;
    return 0;
}

/* Runs one statement on the cluster's maintenance database. */
static inline int test_pg_maint_exec(struct test_backend *tb, const char *sql)
{
    struct config maint = tb->cfg;
    maint.pg_database = tb->pg_maint_db;
    /* CREATE and DROP DATABASE copy and remove files: on a loaded machine
     * they can take longer than a statement of the server may. */
    maint.db_timeout_ms = 120000;
    struct db *db = NULL;
    char err[256];
    int rc = db_open(&maint, &db, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return rc;
    }
    rc = db_exec(db, sql);
    if (rc < 0) fprintf(stderr, "%s: %s\n", sql, db_errmsg(db));
    db_close(db);
    return rc;
}

/* A fresh Postgres database of this test's own: a clone of the migrated
 * template when the cluster has one, else empty. 0 or negative. */
static inline int test_backend_postgres(struct test_backend *tb)
{
    static int counter;
    memset(tb, 0, sizeof *tb);
    test_config_defaults(&tb->cfg);
    int rc = test_pg_env_load(tb);
    if (rc < 0) return rc;
    unsigned r = (unsigned)rand() ^ (unsigned)(uintptr_t)tb;
    snprintf(tb->pg_database, sizeof tb->pg_database, "t_%ld_%d_%08x", (long)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), r);
    /* CREATE DATABASE takes no parameters; the names are ours and the
     * cluster's, [a-z0-9_]. */
    char sql[192];
    if (tb->pg_template[0])
        snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", tb->pg_database,
                 tb->pg_template);
    else
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", tb->pg_database);
    rc = test_pg_maint_exec(tb, sql);
    if (rc < 0) return rc;
    tb->postgres = true;
    tb->cfg.pg_database = tb->pg_database;
    return 0;
}

/* Removes what test_backend_* made (close every connection first). */
static inline void test_backend_cleanup(struct test_backend *tb)
{
    if (tb->postgres && tb->pg_database[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", tb->pg_database);
        test_pg_maint_exec(tb, sql);
        tb->pg_database[0] = '\0';
    }
    if (tb->dir[0]) {
        DIR *d = opendir(tb->dir);
        struct dirent *de;
        char path[PATH_MAX * 2];
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(path, sizeof path, "%s/%s", tb->dir, de->d_name);
            unlink(path);
        }
        if (d) closedir(d);
        rmdir(tb->dir);
        tb->dir[0] = '\0';
    }
}

/* ---- cmocka fixtures: a migrated store on a fresh backend ---- */

struct test_store {
    struct test_backend tb;
    struct store *store;
};

static inline int test_store_setup(void **state, bool postgres)
{
    struct test_store *ts = calloc(1, sizeof *ts);
    if (!ts) return -1;
    int rc = postgres ? test_backend_postgres(&ts->tb) : test_backend_sqlite(&ts->tb);
    char err[512];
    if (rc == 0 && (rc = store_open(&ts->tb.cfg, &ts->store, err, sizeof err)) < 0)
        fprintf(stderr, "store_open: %s\n", err);
    if (rc < 0) {
        test_backend_cleanup(&ts->tb);
        free(ts);
        return -1;
    }
    *state = ts;
    return 0;
}

static inline int test_store_setup_sqlite(void **state)
{
    return test_store_setup(state, false);
}

static inline int test_store_setup_postgres(void **state)
{
    return test_store_setup(state, true);
}

static inline int test_store_teardown(void **state)
{
    struct test_store *ts = *state;
    if (!ts) return 0;
    store_close(ts->store);
    test_backend_cleanup(&ts->tb);
    free(ts);
    return 0;
}

/* Registers a test twice: on SQLite and on Postgres. */
#define TEST_BOTH(fn)                                                                              \
    {"sqlite/" #fn, fn, test_store_setup_sqlite, test_store_teardown, NULL},                       \
    {                                                                                              \
        "postgres/" #fn, fn, test_store_setup_postgres, test_store_teardown, NULL                  \
    }

/* The one int64 a query without parameters answers (its first row's
 * first column); fails the test when there is no row. */
static inline int64_t test_scalar(struct db *db, const char *sql)
{
    struct db_stmt *st = db_prepare(db, sql);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finish(st);
    return v;
}

/* Creates project `name` (its key is not needed) and answers its id. */
static inline int64_t test_project(struct db *db, const char *name)
{
    int64_t id = 0;
    char key[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, name, &id, key), 0);
    return id;
}

/* The tag pairs of an event given as JSON text (caller frees). */
static inline struct event_tags *test_tags_of(const char *json)
{
    cJSON *ev = cJSON_Parse(json);
    assert_non_null(ev);
    struct event_tags *t = NULL;
    assert_int_equal(event_tags_extract(ev, &t), 0);
    cJSON_Delete(ev);
    return t;
}

#endif
