/* db.h on both backends: statements, binds, columns, errors, transactions,
 * Postgres reconnect.
 *
 * The tests use the db layer, not the schema: they share one migrated store
 * per backend (made once, for the group) instead of a database each, and
 * each test starts with no transaction open and an empty scratch table. */
#include "support.h"

static struct test_store *shared_sqlite, *shared_postgres;

static int group_setup(void **state)
{
    (void)state;
    void *s = NULL;
    if (test_store_setup_sqlite(&s) < 0) return -1;
    shared_sqlite = s;
    if (test_store_setup_postgres(&s) < 0) return -1;
    shared_postgres = s;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    void *s = shared_sqlite;
    test_store_teardown(&s);
    s = shared_postgres;
    test_store_teardown(&s);
    return 0;
}

/* A test's start on the shared store: what an earlier test left open is
 * rolled back (a no-op when nothing is). */
static int use_store(void **state, struct test_store *ts)
{
    if (!ts) return -1;
    *state = ts;
    return db_rollback(store_writer(ts->store)) < 0 ? -1 : 0;
}

static int use_sqlite(void **state)
{
    return use_store(state, shared_sqlite);
}

static int use_postgres(void **state)
{
    return use_store(state, shared_postgres);
}

#define SHARED_BOTH(fn)                                                                            \
    {"sqlite/" #fn, fn, use_sqlite, NULL, NULL},                                                   \
    {                                                                                              \
        "postgres/" #fn, fn, use_postgres, NULL, NULL                                              \
    }

static struct db *writer(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static const char SQL_SCRATCH_SQLITE[] = "CREATE TABLE IF NOT EXISTS scratch (id BIGINT PRIMARY "
                                         "KEY, name TEXT UNIQUE, data BLOB, score DOUBLE "
                                         "PRECISION)";
static const char SQL_SCRATCH_PG[] = "CREATE TABLE IF NOT EXISTS scratch (id BIGINT PRIMARY KEY, "
                                     "name TEXT UNIQUE, data BYTEA, score DOUBLE PRECISION)";
static const char SQL_INSERT[] =
    "INSERT INTO scratch (id, name, data, score) VALUES ($1, $2, $3, $4)";
static const char SQL_SELECT[] = "SELECT id, name, data, score FROM scratch WHERE id = $1";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM scratch";

/* The scratch table, empty (the store is shared: an earlier test's rows go). */
static void make_scratch(struct db *db)
{
    assert_int_equal(db_exec(db, db_kind(db) == DB_POSTGRES ? SQL_SCRATCH_PG : SQL_SCRATCH_SQLITE),
                     0);
    assert_int_equal(db_exec(db, "DELETE FROM scratch"), 0);
}

static int insert_row(struct db *db, int64_t id, const char *name, const void *data, size_t len)
{
    struct db_stmt *st = db_prepare(db, SQL_INSERT);
    assert_non_null(st);
    assert_int_equal(db_bind_int64(st, 1, id), 0);
    assert_int_equal(db_bind_text(st, 2, name, (size_t)-1), 0);
    if (data)
        assert_int_equal(db_bind_blob(st, 3, data, len), 0);
    else
        assert_int_equal(db_bind_null(st, 3), 0);
    assert_int_equal(db_bind_double(st, 4, 0.5 * (double)id), 0);
    return db_step(st);
}

static int64_t count_rows(struct db *db)
{
    struct db_stmt *st = db_prepare(db, SQL_COUNT);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_col_int64(st, 0);
    db_finish(st);
    return n;
}

static void test_prepared_statement_is_reused_per_sql_pointer(void **state)
{
    struct db *db = writer(state);
    static const char sql_a[] = "SELECT $1 + 1";
    static const char sql_b[] = "SELECT $1 + 1";
    struct db_stmt *a = db_prepare(db, sql_a);
    assert_non_null(a);
    assert_int_equal(db_bind_int64(a, 1, 41), 0);
    assert_int_equal(db_step(a), DB_ROW);
    assert_int_equal(db_col_int64(a, 0), 42);
    assert_int_equal(db_step(a), DB_DONE);

    assert_ptr_equal(db_prepare(db, sql_a), a);
    assert_int_equal(db_bind_int64(a, 1, 99), 0);
    assert_int_equal(db_step(a), DB_ROW);
    assert_int_equal(db_col_int64(a, 0), 100);

    struct db_stmt *b = db_prepare(db, sql_b);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
}

static void test_prepare_reports_a_bad_statement(void **state)
{
    struct db *db = writer(state);
    assert_null(db_prepare(db, "SELEKT nothing FROM nowhere"));
    assert_true(strlen(db_errmsg(db)) > 0);
    /* The connection still works. */
    assert_non_null(db_prepare(db, "SELECT 1"));
}

static void test_parameters_bind_by_number_in_any_order(void **state)
{
    struct db *db = writer(state);
    struct db_stmt *st = db_prepare(db, "SELECT $2, $1, $2");
    assert_non_null(st);
    assert_int_equal(db_bind_text(st, 1, "one", (size_t)-1), 0);
    assert_int_equal(db_bind_text(st, 2, "two", (size_t)-1), 0);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_col_text(st, 0), "two");
    assert_string_equal(db_col_text(st, 1), "one");
    assert_string_equal(db_col_text(st, 2), "two");
    assert_int_equal(db_col_count(st), 3);
}

static void test_binding_a_missing_parameter_is_erange(void **state)
{
    struct db *db = writer(state);
    struct db_stmt *st = db_prepare(db, "SELECT $1");
    assert_int_equal(db_bind_int64(st, 0, 1), -ERANGE);
    assert_int_equal(db_bind_int64(st, 2, 1), -ERANGE);
    assert_int_equal(db_bind_text(st, 2, "x", 1), -ERANGE);
}

static void test_unique_violation_is_eexist(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    assert_int_equal(insert_row(db, 1, "a", "x", 1), DB_DONE);
    assert_int_equal(insert_row(db, 1, "b", "x", 1), -EEXIST); /* primary key */
    assert_int_equal(insert_row(db, 2, "a", "x", 1), -EEXIST); /* UNIQUE column */
    assert_int_equal(insert_row(db, 2, "b", "x", 1), DB_DONE);
    assert_int_equal(count_rows(db), 2);
}

static void test_foreign_key_violation_is_enoent(void **state)
{
    struct db *db = writer(state);
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO project_keys (public_key, project_id, created_at) VALUES ($1, $2, $3)");
    assert_non_null(st);
    assert_int_equal(db_bind_text(st, 1, "0123456789abcdef0123456789abcdef", (size_t)-1), 0);
    assert_int_equal(db_bind_int64(st, 2, 12345), 0);
    assert_int_equal(db_bind_int64(st, 3, 1), 0);
    assert_int_equal(db_step(st), -ENOENT);
}

static void test_blobs_round_trip_with_zero_bytes(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    static const unsigned char zeros[] = {0, 1, 0, 255, 0, '\\', 'x', 0};
    enum { BIG = 100000 };
    unsigned char *big = malloc(BIG);
    assert_non_null(big);
    for (int i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i * 7919 >> 3);
    assert_int_equal(insert_row(db, 1, "zeros", zeros, sizeof zeros), DB_DONE);
    assert_int_equal(insert_row(db, 2, "empty", "", 0), DB_DONE);
    assert_int_equal(insert_row(db, 3, "big", big, BIG), DB_DONE);
    assert_int_equal(insert_row(db, 4, "null", NULL, 0), DB_DONE);

    struct {
        int64_t id;
        const void *data;
        size_t len;
    } want[] = {{1, zeros, sizeof zeros}, {2, "", 0}, {3, big, BIG}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct db_stmt *st = db_prepare(db, SQL_SELECT);
        assert_int_equal(db_bind_int64(st, 1, want[i].id), 0);
        assert_int_equal(db_step(st), DB_ROW);
        size_t len = 99;
        const void *p = db_col_blob(st, 2, &len);
        assert_non_null(p); /* an empty blob is not NULL */
        assert_false(db_col_is_null(st, 2));
        assert_int_equal(len, want[i].len);
        if (len) assert_memory_equal(p, want[i].data, len);
        /* Asking again returns the same bytes. */
        size_t len2 = 0;
        assert_ptr_equal(db_col_blob(st, 2, &len2), p);
        assert_int_equal(len2, len);
        assert_int_equal(db_step(st), DB_DONE);
    }
    struct db_stmt *st = db_prepare(db, SQL_SELECT);
    assert_int_equal(db_bind_int64(st, 1, 4), 0);
    assert_int_equal(db_step(st), DB_ROW);
    size_t len = 99;
    assert_true(db_col_is_null(st, 2));
    assert_null(db_col_blob(st, 2, &len));
    assert_int_equal(len, 0);
    free(big);
}

static void test_nulls_read_back_as_null(void **state)
{
    struct db *db = writer(state);
    struct db_stmt *st = db_prepare(db, "SELECT $1, $2, $3");
    assert_int_equal(db_bind_null(st, 1), 0);
    assert_int_equal(db_bind_text(st, 2, NULL, 0), 0);
    assert_int_equal(db_bind_int64(st, 3, 7), 0);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_col_is_null(st, 0));
    assert_true(db_col_is_null(st, 1));
    assert_false(db_col_is_null(st, 2));
    assert_null(db_col_text(st, 0));
    assert_null(db_col_text(st, 1));
    assert_int_equal(db_col_int64(st, 0), 0);
}

static void test_text_int_and_double_round_trip(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    static const char name[] = "Grüße, 世界 \"quoted\" 'single' $1 --";
    struct db_stmt *st = db_prepare(db, SQL_INSERT);
    assert_int_equal(db_bind_int64(st, 1, INT64_MAX), 0);
    assert_int_equal(db_bind_text(st, 2, name, sizeof name - 1), 0);
    assert_int_equal(db_bind_null(st, 3), 0);
    assert_int_equal(db_bind_double(st, 4, 3.141592653589793), 0);
    assert_int_equal(db_step(st), DB_DONE);
    assert_int_equal(db_changes(st), 1);

    st = db_prepare(db, SQL_SELECT);
    assert_int_equal(db_bind_int64(st, 1, INT64_MAX), 0);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_col_int64(st, 0) == INT64_MAX);
    assert_string_equal(db_col_text(st, 1), name);
    assert_true(db_col_double(st, 3) == 3.141592653589793);
    assert_string_equal(db_col_name(st, 1), "name");
    assert_int_equal(db_col_count(st), 4);
}

static void test_text_with_a_nul_byte_is_refused(void **state)
{
    struct db *db = writer(state);
    struct db_stmt *st = db_prepare(db, "SELECT $1");
    assert_int_equal(db_bind_text(st, 1, "a\0b", 3), -EINVAL);
}

static void test_changes_counts_updated_rows(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    for (int i = 1; i <= 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(insert_row(db, i, name, "x", 1), DB_DONE);
    }
    struct db_stmt *st = db_prepare(db, "UPDATE scratch SET score = $1 WHERE id >= $2");
    assert_int_equal(db_bind_double(st, 1, 1.0), 0);
    assert_int_equal(db_bind_int64(st, 2, 2), 0);
    assert_int_equal(db_step(st), DB_DONE);
    assert_int_equal(db_changes(st), 2);
}

static void test_rollback_discards_and_commit_keeps(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(insert_row(db, 1, "a", "x", 1), DB_DONE);
    assert_int_equal(count_rows(db), 1);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(count_rows(db), 0);

    assert_int_equal(db_begin(db), 0);
    assert_int_equal(insert_row(db, 2, "b", "x", 1), DB_DONE);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(count_rows(db), 1);

    /* Rolling back with no transaction open is harmless. */
    assert_int_equal(db_rollback(db), 0);
}

static void test_other_connections_see_only_committed_rows(void **state)
{
    struct test_store *ts = *state;
    struct db *w = store_writer(ts->store);
    make_scratch(w);
    struct db *r = store_acquire(ts->store);
    assert_int_equal(db_begin(w), 0);
    assert_int_equal(insert_row(w, 1, "a", "x", 1), DB_DONE);
    assert_int_equal(count_rows(r), 0);
    assert_int_equal(db_commit(w), 0);
    assert_int_equal(count_rows(r), 1);
    store_release(ts->store, r);
}

static void test_half_read_statement_does_not_pin_a_snapshot(void **state)
{
    struct test_store *ts = *state;
    struct db *w = store_writer(ts->store);
    make_scratch(w);
    assert_int_equal(insert_row(w, 1, "a", "x", 1), DB_DONE);
    assert_int_equal(insert_row(w, 2, "b", "x", 1), DB_DONE);
    struct db *r = store_acquire(ts->store);
    struct db_stmt *st = db_prepare(r, "SELECT id FROM scratch ORDER BY id");
    assert_int_equal(db_step(st), DB_ROW); /* one of two rows read, then left */
    store_release(ts->store, r);
    assert_int_equal(insert_row(w, 3, "c", "x", 1), DB_DONE);
    r = store_acquire(ts->store);
    assert_int_equal(count_rows(r), 3);
    store_release(ts->store, r);
}

static void test_commit_after_a_failed_statement_is_an_error_on_postgres(void **state)
{
    struct db *db = writer(state);
    make_scratch(db);
    assert_int_equal(insert_row(db, 1, "a", "x", 1), DB_DONE);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(insert_row(db, 2, "b", "x", 1), DB_DONE);
    assert_int_equal(insert_row(db, 1, "c", "x", 1), -EEXIST);
    /* Postgres has aborted the transaction: COMMIT must not look fine. */
    assert_true(db_commit(db) < 0);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(count_rows(db), 1);
}

static int backend_pid(struct db *db)
{
    struct db_stmt *st = db_prepare(db, "SELECT pg_backend_pid()");
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    int pid = (int)db_col_int64(st, 0);
    db_finish(st);
    return pid;
}

static void terminate(struct test_store *ts, int pid)
{
    struct db *other = store_acquire(ts->store);
    struct db_stmt *st =
        db_prepare(other, "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 5000)");
    assert_non_null(st);
    assert_int_equal(db_bind_int64(st, 1, pid), 0);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int64(st, 0), 1);
    store_release(ts->store, other);
}

static void test_postgres_reconnects_after_the_backend_is_killed(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    make_scratch(db);
    assert_int_equal(insert_row(db, 1, "a", "x", 1), DB_DONE);
    int pid = backend_pid(db);
    assert_false(db_reconnected(db));
    terminate(ts, pid);

    /* Outside a transaction the next statement just works, on a new backend,
     * and the statements prepared before are prepared again. */
    assert_int_equal(count_rows(db), 1);
    assert_true(db_reconnected(db));
    assert_false(db_reconnected(db)); /* reset on read */
    assert_int_not_equal(backend_pid(db), pid);
    assert_int_equal(insert_row(db, 2, "b", "x", 1), DB_DONE);
    assert_int_equal(count_rows(db), 2);
}

static void test_postgres_connection_lost_in_a_transaction_is_econnreset(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    make_scratch(db);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(insert_row(db, 1, "a", "x", 1), DB_DONE);
    terminate(ts, backend_pid(db));
    assert_int_equal(insert_row(db, 2, "b", "x", 1), -ECONNRESET);
    assert_true(db_reconnected(db));
    assert_int_equal(db_rollback(db), 0);
    /* The transaction is gone; the connection works again. */
    assert_int_equal(count_rows(db), 0);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(insert_row(db, 3, "c", "x", 1), DB_DONE);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(count_rows(db), 1);
}

static void test_notify_refuses_a_bad_channel_name(void **state)
{
    struct db *db = writer(state);
    assert_int_equal(db_notify(db, "scripts; DROP TABLE projects", "x"), -EINVAL);
    assert_int_equal(db_notify(db, "", "x"), -EINVAL);
    assert_int_equal(db_listen(db, "Upper"), -EINVAL);
    assert_int_equal(db_listen(db, "1abc"), -EINVAL);
}

static void test_sqlite_notify_does_nothing_and_listen_is_unsupported(void **state)
{
    struct db *db = writer(state);
    char ch[64], payload[64];
    assert_int_equal(db_notify(db, "scripts", "1"), 0);
    assert_int_equal(db_listen(db, "scripts"), -ENOTSUP);
    assert_int_equal(db_wait_notification(db, 0, ch, sizeof ch, payload, sizeof payload), -ENOTSUP);
}

/* Waits up to ~5 s for the next notification. */
static int wait_note(struct db *db, char ch[64], char payload[64])
{
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = db_wait_notification(db, 500, ch, 64, payload, 64);
    return rc;
}

static void test_postgres_listen_receives_committed_notifications(void **state)
{
    struct test_store *ts = *state;
    struct db *listener = NULL;
    char err[256], ch[64], payload[64];
    assert_int_equal(db_open(&ts->tb.cfg, &listener, err, sizeof err), 0);
    assert_int_equal(db_listen(listener, "scripts"), 0);
    assert_int_equal(db_wait_notification(listener, 20, ch, sizeof ch, payload, sizeof payload), 0);

    struct db *w = store_writer(ts->store);
    assert_int_equal(db_notify(w, "scripts", "17"), 0);
    assert_int_equal(wait_note(listener, ch, payload), 1);
    assert_string_equal(ch, "scripts");
    assert_string_equal(payload, "17");

    /* A rolled-back notification is never delivered; a committed one is. */
    assert_int_equal(db_begin(w), 0);
    assert_int_equal(db_notify(w, "scripts", "rolled back"), 0);
    assert_int_equal(db_rollback(w), 0);
    assert_int_equal(db_begin(w), 0);
    assert_int_equal(db_notify(w, "scripts", "committed"), 0);
    assert_int_equal(db_commit(w), 0);
    assert_int_equal(wait_note(listener, ch, payload), 1);
    assert_string_equal(payload, "committed");

    /* Other channels are not heard. */
    assert_int_equal(db_notify(w, "other", "x"), 0);
    assert_int_equal(db_wait_notification(listener, 100, ch, sizeof ch, payload, sizeof payload),
                     0);
    db_close(listener);
}

static void test_postgres_listen_survives_a_reconnect(void **state)
{
    struct test_store *ts = *state;
    struct db *listener = NULL;
    char err[256], ch[64], payload[64];
    assert_int_equal(db_open(&ts->tb.cfg, &listener, err, sizeof err), 0);
    assert_int_equal(db_listen(listener, "scripts"), 0);
    terminate(ts, backend_pid(listener));
    /* The loss is reported once (the caller re-reads what it may have
     * missed); afterwards the connection listens again. */
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = db_wait_notification(listener, 500, ch, sizeof ch, payload, sizeof payload);
    assert_int_equal(rc, -ECONNRESET);
    assert_true(db_reconnected(listener));
    assert_int_equal(db_notify(store_writer(ts->store), "scripts", "after"), 0);
    assert_int_equal(wait_note(listener, ch, payload), 1);
    assert_string_equal(payload, "after");
    db_close(listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SHARED_BOTH(test_prepared_statement_is_reused_per_sql_pointer),
        SHARED_BOTH(test_prepare_reports_a_bad_statement),
        SHARED_BOTH(test_parameters_bind_by_number_in_any_order),
        SHARED_BOTH(test_binding_a_missing_parameter_is_erange),
        SHARED_BOTH(test_unique_violation_is_eexist),
        SHARED_BOTH(test_foreign_key_violation_is_enoent),
        SHARED_BOTH(test_blobs_round_trip_with_zero_bytes),
        SHARED_BOTH(test_nulls_read_back_as_null),
        SHARED_BOTH(test_text_int_and_double_round_trip),
        SHARED_BOTH(test_text_with_a_nul_byte_is_refused),
        SHARED_BOTH(test_changes_counts_updated_rows),
        SHARED_BOTH(test_rollback_discards_and_commit_keeps),
        SHARED_BOTH(test_other_connections_see_only_committed_rows),
        SHARED_BOTH(test_half_read_statement_does_not_pin_a_snapshot),
        SHARED_BOTH(test_notify_refuses_a_bad_channel_name),
        {"sqlite/test_sqlite_notify_does_nothing_and_listen_is_unsupported",
         test_sqlite_notify_does_nothing_and_listen_is_unsupported, use_sqlite, NULL, NULL},
        {"postgres/test_postgres_listen_receives_committed_notifications",
         test_postgres_listen_receives_committed_notifications, use_postgres, NULL, NULL},
        {"postgres/test_postgres_listen_survives_a_reconnect",
         test_postgres_listen_survives_a_reconnect, use_postgres, NULL, NULL},
        {"postgres/test_commit_after_a_failed_statement_is_an_error_on_postgres",
         test_commit_after_a_failed_statement_is_an_error_on_postgres, use_postgres, NULL, NULL},
        {"postgres/test_postgres_reconnects_after_the_backend_is_killed",
         test_postgres_reconnects_after_the_backend_is_killed, use_postgres, NULL, NULL},
        {"postgres/test_postgres_connection_lost_in_a_transaction_is_econnreset",
         test_postgres_connection_lost_in_a_transaction_is_econnreset, use_postgres, NULL, NULL},
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
