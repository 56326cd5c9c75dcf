/* store.h and db_migrate on both backends: migrations (counts, idempotence,
 * failure, concurrency), the connection pool, open errors. */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "base/clock.h"
#include "support.h"

/* A migrations dir of our own inside the test's temp area. */
struct mig_dir {
    char path[PATH_MAX];
};

static void mig_dir_make(struct mig_dir *m)
{
    snprintf(m->path, sizeof m->path, "/tmp/periscope-mig-XXXXXX");
    assert_non_null(mkdtemp(m->path));
}

static void mig_write(struct mig_dir *m, const char *name, const char *sql)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", m->path, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(sql, f);
    fclose(f);
}

static void mig_dir_remove(struct mig_dir *m)
{
    struct test_backend tmp = {0};
    snprintf(tmp.dir, sizeof tmp.dir, "%s", m->path);
    test_backend_cleanup(&tmp);
}

static bool table_exists(struct db *db, const char *name)
{
    struct db_stmt *st = db_prepare(
        db, db_kind(db) == DB_POSTGRES
                ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' "
                  "AND table_name = $1"
                : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1");
    assert_non_null(st);
    assert_int_equal(db_bind_text(st, 1, name, (size_t)-1), 0);
    assert_int_equal(db_step(st), DB_ROW);
    bool found = db_col_int64(st, 0) > 0;
    db_finish(st);
    return found;
}

static void test_migrate_counts_what_it_applies_and_is_idempotent(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct mig_dir m;
    char err[512] = "";
    mig_dir_make(&m);
    mig_write(&m, "0100_a.sql", "CREATE TABLE mig_a (x BIGINT);");
    mig_write(&m, "0101_b.sql",
              "CREATE TABLE mig_b (x BIGINT);\nINSERT INTO mig_b (x) VALUES (1);\n");
    mig_write(&m, "README.md", "not a migration");
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), 2);
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), 0);
    mig_write(&m, "0102_c.sql", "CREATE TABLE mig_c (x BIGINT);");
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), 1);
    assert_true(table_exists(db, "mig_c"));
    assert_int_equal(
        test_scalar(
            db, "SELECT COUNT(*) FROM schema_migrations WHERE version IN ('0100', '0101', '0102')"),
        3);
    mig_dir_remove(&m);
}

static void test_migrations_run_in_lexical_order(void **state)
{
    struct db *db = store_writer(((struct test_store *)*state)->store);
    struct mig_dir m;
    char err[512] = "";
    mig_dir_make(&m);
    /* 0203 needs the table 0202 creates; readdir order is not sorted. */
    mig_write(&m, "0203_fill.sql", "INSERT INTO ordered (x) VALUES (3);");
    mig_write(&m, "0202_table.sql", "CREATE TABLE ordered (x BIGINT);");
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), 2);
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM ordered"), 1);
    mig_dir_remove(&m);
}

static void test_failed_migration_is_rolled_back_and_not_recorded(void **state)
{
    struct db *db = store_writer(((struct test_store *)*state)->store);
    struct mig_dir m;
    char err[512] = "";
    mig_dir_make(&m);
    mig_write(&m, "9300_ok.sql", "CREATE TABLE mig_ok (x BIGINT);");
    mig_write(&m, "9301_bad.sql", "CREATE TABLE mig_half (x BIGINT);\nSELEKT broken;\n");
    assert_true(db_migrate(db, m.path, err, sizeof err) < 0);
    assert_non_null(strstr(err, "9301_bad.sql"));
    assert_true(table_exists(db, "mig_ok"));
    assert_false(table_exists(db, "mig_half")); /* the whole file rolled back */
    assert_int_equal(
        test_scalar(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = '9301'"), 0);

    mig_write(&m, "9301_bad.sql", "CREATE TABLE mig_half (x BIGINT);\n");
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), 1);
    assert_true(table_exists(db, "mig_half"));
    mig_dir_remove(&m);
}

static void test_two_migrations_with_one_version_are_refused(void **state)
{
    struct db *db = store_writer(((struct test_store *)*state)->store);
    struct mig_dir m;
    char err[512] = "";
    mig_dir_make(&m);
    mig_write(&m, "0400_a.sql", "CREATE TABLE dup_a (x BIGINT);");
    mig_write(&m, "0400_b.sql", "CREATE TABLE dup_b (x BIGINT);");
    assert_int_equal(db_migrate(db, m.path, err, sizeof err), -EINVAL);
    assert_false(table_exists(db, "dup_a"));
    mig_dir_remove(&m);
}

struct migrate_job {
    const struct config *cfg;
    const char *dir;
    int rc;
    char err[512];
};

static void *migrate_thread(void *arg)
{
    struct migrate_job *job = arg;
    struct db *db = NULL;
    job->rc = db_open(job->cfg, &db, job->err, sizeof job->err);
    if (job->rc == 0) job->rc = db_migrate(db, job->dir, job->err, sizeof job->err);
    db_close(db);
    return NULL;
}

static void test_concurrent_migrations_apply_each_file_once(void **state)
{
    struct test_store *ts = *state;
    struct mig_dir m;
    mig_dir_make(&m);
    mig_write(&m, "9500_a.sql", "CREATE TABLE conc_a (x BIGINT);");
    mig_write(&m, "9501_b.sql", "CREATE TABLE conc_b (x BIGINT);");
    mig_write(&m, "9502_c.sql", "CREATE TABLE conc_c (x BIGINT);");
    enum { NODES = 4 };
    struct migrate_job jobs[NODES];
    pthread_t th[NODES];
    for (int i = 0; i < NODES; i++) {
        jobs[i] = (struct migrate_job){.cfg = &ts->tb.cfg, .dir = m.path};
        assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &jobs[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < NODES; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].rc < 0) fail_msg("node %d: %s", i, jobs[i].err);
        total += jobs[i].rc;
    }
    assert_int_equal(total, 3);
    mig_dir_remove(&m);
}

static void test_reopening_the_store_applies_nothing(void **state)
{
    struct test_store *ts = *state;
    char err[512] = "";
    store_close(ts->store);
    ts->store = NULL;
    assert_int_equal(store_open(&ts->tb.cfg, &ts->store, err, sizeof err), 0);
    struct db *db = store_writer(ts->store);
    assert_int_equal(db_migrate(db, store_migrations_dir(&ts->tb.cfg), err, sizeof err), 0);
    assert_int_equal(
        test_scalar(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = '0001'"), 1);
    assert_true(table_exists(db, "projects"));
}

static void test_migrations_dir_follows_the_configuration(void **state)
{
    struct test_store *ts = *state;
    const char *kind = ts->tb.postgres ? "postgres" : "sqlite";
    char want[PATH_MAX];
    struct config cfg = ts->tb.cfg;
    cfg.migrations_dir = "/opt/periscope/migrations";
    snprintf(want, sizeof want, "/opt/periscope/migrations/%s", kind);
    assert_string_equal(store_migrations_dir(&cfg), want);
    snprintf(want, sizeof want, "%s/migrations/%s", PERISCOPE_SOURCE_DIR, kind);
    assert_string_equal(store_migrations_dir(&ts->tb.cfg), want);
}

struct acquire_job {
    struct store *store;
    struct db *got;
    int done; /* atomic */
};

static void *acquire_thread(void *arg)
{
    struct acquire_job *job = arg;
    job->got = store_acquire(job->store);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_pool_lends_distinct_connections_and_blocks_when_empty(void **state)
{
    struct test_store *ts = *state;
    struct db *lent[STORE_POOL_SIZE];
    for (int i = 0; i < STORE_POOL_SIZE; i++) {
        lent[i] = store_acquire(ts->store);
        assert_non_null(lent[i]);
        assert_ptr_not_equal(lent[i], store_writer(ts->store));
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(lent[i], lent[j]);
    }
    struct acquire_job job = {.store = ts->store};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, acquire_thread, &job), 0);
    sleep_ms(100);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    store_release(ts->store, lent[2]);
    for (int i = 0; i < 500 && !__atomic_load_n(&job.done, __ATOMIC_SEQ_CST); i++)
        sleep_ms(10);
    pthread_join(th, NULL);
    assert_ptr_equal(job.got, lent[2]);
    lent[2] = job.got;
    for (int i = 0; i < STORE_POOL_SIZE; i++)
        store_release(ts->store, lent[i]);
}

static void test_release_rolls_back_a_transaction_left_open(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_acquire(ts->store);
    assert_int_equal(db_begin(db), 0);
    struct db_stmt *st = db_prepare(db, "INSERT INTO projects (name, created_at) VALUES ($1, $2)");
    assert_int_equal(db_bind_text(st, 1, "left open", (size_t)-1), 0);
    assert_int_equal(db_bind_int64(st, 2, clock_wall_ms()), 0);
    assert_int_equal(db_step(st), DB_DONE);
    store_release(ts->store, db);
    /* The writer can write (no lock left behind) and sees no such row. */
    struct db *w = store_writer(ts->store);
    assert_int_equal(db_begin(w), 0);
    assert_int_equal(db_commit(w), 0);
    assert_int_equal(test_scalar(w, "SELECT COUNT(*) FROM projects"), 0);
}

static void test_now_ms_is_the_wall_clock_in_milliseconds(void **state)
{
    (void)state;
    long long before = (long long)time(NULL) * 1000;
    long long now = clock_wall_ms();
    long long after = ((long long)time(NULL) + 1) * 1000;
    assert_true(now >= before && now <= after);
}

static void test_open_fails_with_a_message_for_an_unreachable_postgres(void **state)
{
    (void)state;
    struct config cfg;
    test_config_defaults(&cfg);
    cfg.postgres_enabled = true;
    cfg.pg_port = 1; /* nothing listens there */
    struct store *st = NULL;
    char err[512] = "";
    assert_true(store_open(&cfg, &st, err, sizeof err) < 0);
    assert_null(st);
    assert_non_null(strstr(err, "postgres"));
}

static void test_open_fails_with_a_message_for_an_unwritable_sqlite_path(void **state)
{
    (void)state;
    struct config cfg;
    test_config_defaults(&cfg);
    cfg.sqlite_path = "/nonexistent-dir/periscope.db";
    struct store *st = NULL;
    char err[512] = "";
    assert_true(store_open(&cfg, &st, err, sizeof err) < 0);
    assert_null(st);
    assert_non_null(strstr(err, "/nonexistent-dir/periscope.db"));
}

/* The database holds webhook tokens and SMTP passwords: created 0600 with
 * its -wal and -shm, whatever the umask. */
static void test_sqlite_files_are_created_0600_whatever_the_umask(void **state)
{
    (void)state;
    struct test_backend tb;
    assert_int_equal(test_backend_sqlite(&tb), 0);
    mode_t old = umask(0);
    struct store *st = NULL;
    char err[512] = "";
    int rc = store_open(&tb.cfg, &st, err, sizeof err);
    umask(old);
    assert_int_equal(rc, 0);
    struct db *db = store_acquire(st);
    assert_int_equal(test_project(db, "p") > 0, 1); /* a write: the WAL exists */
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char path[PATH_MAX + 32];
        struct stat sb;
        snprintf(path, sizeof path, "%s%s", tb.sqlite_path, suffixes[i]);
        assert_int_equal(stat(path, &sb), 0);
        if ((sb.st_mode & 0777) != 0600) fail_msg("%s is %04o", path, sb.st_mode & 0777);
    }
    store_release(st, db);
    store_close(st);
    test_backend_cleanup(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_migrate_counts_what_it_applies_and_is_idempotent),
        TEST_BOTH(test_migrations_run_in_lexical_order),
        TEST_BOTH(test_failed_migration_is_rolled_back_and_not_recorded),
        TEST_BOTH(test_two_migrations_with_one_version_are_refused),
        TEST_BOTH(test_concurrent_migrations_apply_each_file_once),
        TEST_BOTH(test_reopening_the_store_applies_nothing),
        TEST_BOTH(test_migrations_dir_follows_the_configuration),
        TEST_BOTH(test_pool_lends_distinct_connections_and_blocks_when_empty),
        TEST_BOTH(test_release_rolls_back_a_transaction_left_open),
        cmocka_unit_test(test_now_ms_is_the_wall_clock_in_milliseconds),
        cmocka_unit_test(test_open_fails_with_a_message_for_an_unreachable_postgres),
        cmocka_unit_test(test_open_fails_with_a_message_for_an_unwritable_sqlite_path),
        cmocka_unit_test(test_sqlite_files_are_created_0600_whatever_the_umask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
