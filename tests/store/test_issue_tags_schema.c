/* The issue_tags table's shape: on SQLite, migration 0070 rebuilds it
 * WITHOUT ROWID and must keep every row 0060 stored, its key and its
 * cascade; on both backends, deleting an issue deletes its tag counts. */
#include "support.h"

#include <cjson/cJSON.h>

#include "model/event_tags.h"
#include "store/events_write.h"
#include "store/counters.h"
#include "store/issue_tags.h"
#include "store/projects.h"

static int64_t add_issue(struct db *db, int64_t pid, const char *hash)
{
    struct db_stmt *st = db_prepare(
        db, "INSERT INTO issues (project_id, hash, title, first_seen, last_seen, times_seen)"
            " VALUES ($1, $2, 'T', 1, 1, 1) RETURNING id");
    assert_non_null(st);
    db_bind_int64(st, 1, pid);
    db_bind_text(st, 2, hash, (size_t)-1);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_col_int64(st, 0);
    db_finish(st);
    return id;
}

static void add_tag_row(struct db *db, int64_t issue, const char *key, const char *value,
                        int64_t count, int64_t last_seen)
{
    struct db_stmt *st = db_prepare(db, "INSERT INTO issue_tags (issue_id, key, value, times_seen,"
                                        " last_seen) VALUES ($1, $2, $3, $4, $5)");
    assert_non_null(st);
    db_bind_int64(st, 1, issue);
    db_bind_text(st, 2, key, (size_t)-1);
    db_bind_text(st, 3, value, (size_t)-1);
    db_bind_int64(st, 4, count);
    db_bind_int64(st, 5, last_seen);
    assert_int_equal(db_step(st), DB_DONE);
}

/* Every tag row as "issue:key=value*count@last_seen;", in key order, with
 * issue ids written relative to first (ids differ between backends). */
static void rows_of(struct db *db, int64_t first, char *out, size_t outlen)
{
    struct db_stmt *st =
        db_prepare(db, "SELECT issue_id, key, value, times_seen, last_seen FROM issue_tags"
                       " ORDER BY issue_id, key, value");
    assert_non_null(st);
    size_t o = 0;
    out[0] = '\0';
    int rc;
    while ((rc = db_step(st)) == DB_ROW && o < outlen)
        o += (size_t)snprintf(out + o, outlen - o, "%lld:%s=%s*%lld@%lld;",
                              (long long)(db_col_int64(st, 0) - first), db_col_text(st, 1),
                              db_col_text(st, 2), (long long)db_col_int64(st, 3),
                              (long long)db_col_int64(st, 4));
    assert_int_equal(rc, DB_DONE);
    db_finish(st);
}

/* Copies the repository's SQLite migrations older than 0070 into dir. */
static void copy_migrations_before_0070(const char *dir)
{
    char src_dir[PATH_MAX];
    snprintf(src_dir, sizeof src_dir, "%s/migrations/sqlite", PERISCOPE_SOURCE_DIR);
    DIR *d = opendir(src_dir);
    assert_non_null(d);
    struct dirent *de;
    int copied = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0) continue;
        if (strcmp(de->d_name, "0070") >= 0) continue;
        char from[PATH_MAX * 2], to[PATH_MAX * 2], buf[8192];
        snprintf(from, sizeof from, "%s/%s", src_dir, de->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, de->d_name);
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
        assert_non_null(in);
        assert_non_null(out);
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(in);
        fclose(out);
        copied++;
    }
    closedir(d);
    assert_true(copied >= 3); /* 0001, 0050, 0060 at least */
}

static void test_tag_rows_survive_the_without_rowid_rebuild(void **state)
{
    (void)state;
    struct test_backend tb, old = {0};
    assert_int_equal(test_backend_sqlite(&tb), 0);
    const char *tmp = getenv("TMPDIR");
    snprintf(old.dir, sizeof old.dir, "%s/periscope-mig0060-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(old.dir));
    copy_migrations_before_0070(old.dir);

    struct db *db = NULL;
    char err[512] = "", before[1024], after[1024];
    assert_int_equal(db_open(&tb.cfg, &db, err, sizeof err), 0);
    assert_true(db_migrate(db, old.dir, err, sizeof err) >= 3);
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'issue_tags'"
                                     " AND sql LIKE '%WITHOUT ROWID%'"),
                     0);
    int64_t pid = test_project(db, "p");
    int64_t a = add_issue(db, pid, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    int64_t b = add_issue(db, pid, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    /* inserted out of key order: the copy must not depend on rowids */
    add_tag_row(db, b, "release", "2.0", 7, 700);
    add_tag_row(db, a, "user", "id:42", 1, 100);
    add_tag_row(db, a, "environment", "prod", 5, 500);
    add_tag_row(db, b, "environment", "prod", 3, 300);
    add_tag_row(db, a, "browser", "Firefox \xe2\x9c\x93", 2, 200);
    rows_of(db, a, before, sizeof before);
    assert_string_equal(before, "0:browser=Firefox \xe2\x9c\x93*2@200;0:environment=prod*5@500;"
                                "0:user=id:42*1@100;1:environment=prod*3@300;1:release=2.0*7@700;");

    assert_true(db_migrate(db, store_migrations_dir(&tb.cfg), err, sizeof err) >= 1);
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'issue_tags'"
                                     " AND sql LIKE '%WITHOUT ROWID%'"),
                     1);
    /* no leftover table, no index left from the rowid table's primary key
     * (0301's issue_tags_key_value and 0340's issue_tags_key_issue, for
     * search, are the indexes) */
    assert_int_equal(
        test_scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'issue_tags%'"
                        " AND name NOT IN ('issue_tags_key_value', 'issue_tags_key_issue')"),
        1);
    rows_of(db, a, after, sizeof after);
    assert_string_equal(after, before);

    /* The writer's upsert and the summary read the rebuilt table as before. */
    struct event_tags *t = test_tags_of("{\"environment\":\"prod\",\"release\":\"2.0\"}");
    struct counter_buffer *batch = counter_buffer_new();
    assert_non_null(batch);
    assert_int_equal(counter_buffer_add_event(batch, a, 900, 900, t), 0);
    assert_int_equal(counters_flush(db, batch, 0), 0);
    rows_of(db, a, after, sizeof after);
    assert_string_equal(after, "0:browser=Firefox \xe2\x9c\x93*2@200;0:environment=prod*6@900;"
                               "0:release=2.0*1@900;0:user=id:42*1@100;"
                               "1:environment=prod*3@300;1:release=2.0*7@700;");
    cJSON *sum = NULL;
    assert_int_equal(issue_tags_summary(db, b, 5, &sum), 0);
    char *text = json_print(sum, 0);
    assert_string_equal(text, "[{\"key\":\"environment\",\"total\":3,\"top_values\":[{\"value\":"
                              "\"prod\",\"count\":3,\"last_seen\":300}]},"
                              "{\"key\":\"release\",\"total\":7,\"top_values\":[{\"value\":"
                              "\"2.0\",\"count\":7,\"last_seen\":700}]}]");
    free(text);
    cJSON_Delete(sum);

    /* The foreign key still cascades. */
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(events_write_issue_delete(db, a), 0);
    assert_int_equal(db_commit(db), 0);
    rows_of(db, a, after, sizeof after);
    assert_string_equal(after, "1:environment=prod*3@300;1:release=2.0*7@700;");
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM pragma_foreign_key_check('issue_tags')"),
                     0);

    counter_buffer_free(batch);
    free(t);
    db_close(db);
    test_backend_cleanup(&old);
    test_backend_cleanup(&tb);
}

static void test_deleting_an_issue_deletes_its_tag_counts(void **state)
{
    struct db *db = store_writer(((struct test_store *)*state)->store);
    char rows[512];
    int64_t pid = test_project(db, "p");
    int64_t a = add_issue(db, pid, "cccccccccccccccccccccccccccccccc");
    int64_t b = add_issue(db, pid, "dddddddddddddddddddddddddddddddd");
    struct event_tags *t = test_tags_of("{\"environment\":\"prod\",\"user\":{\"id\":7}}");
    struct counter_buffer *batch = counter_buffer_new();
    assert_non_null(batch);
    assert_int_equal(counter_buffer_add_event(batch, a, 10, 10, t), 0);
    assert_int_equal(counter_buffer_add_event(batch, b, 20, 20, t), 0);
    assert_int_equal(counters_flush(db, batch, 0), 0);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(events_write_issue_delete(db, a), 0);
    assert_int_equal(db_commit(db), 0);
    rows_of(db, b, rows, sizeof rows);
    assert_string_equal(rows, "0:environment=prod*1@20;0:user=id:7*1@20;0:user.id=7*1@20;");
    counter_buffer_free(batch);
    free(t);
}

/* 3 issues x 15 values = 45 pairs in one flush statement; twice, so the
 * second pass takes the conflict branch. */
static void test_a_large_batch_upserts_every_pair_once(void **state)
{
    struct db *db = store_writer(((struct test_store *)*state)->store);
    int64_t pid = test_project(db, "p"), issues[3];
    issues[0] = add_issue(db, pid, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    issues[1] = add_issue(db, pid, "ffffffffffffffffffffffffffffffff");
    issues[2] = add_issue(db, pid, "00000000000000000000000000000000");
    struct event_tags *t = test_tags_of("{\"tags\":{\"k0\":\"a\",\"k1\":\"b\",\"k2\":\"c\","
                                        "\"k3\":\"d\",\"k4\":\"e\",\"k5\":\"f\",\"k6\":\"g\","
                                        "\"k7\":\"h\",\"k8\":\"i\",\"k9\":\"j\",\"ka\":\"k\","
                                        "\"kb\":\"l\",\"kc\":\"m\",\"kd\":\"n\",\"ke\":\"o\"}}");
    assert_int_equal(t->n, 15);
    struct counter_buffer *batch = counter_buffer_new();
    assert_non_null(batch);
    for (int pass = 1; pass <= 2; pass++) {
        for (int i = 0; i < 3; i++)
            assert_int_equal(
                counter_buffer_add_event(batch, issues[i], 100 * pass + i, 100 * pass + i, t), 0);
        assert_int_equal(counters_flush(db, batch, 0), 0);
    }
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM issue_tags WHERE times_seen = 2"), 45);
    assert_int_equal(test_scalar(db, "SELECT COUNT(*) FROM issue_tags"), 45);
    /* last_seen is each issue's second pass */
    assert_int_equal(test_scalar(db, "SELECT SUM(last_seen) FROM issue_tags"),
                     15 * (200 + 201 + 202));
    counter_buffer_free(batch);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_rows_survive_the_without_rowid_rebuild),
        TEST_BOTH(test_deleting_an_issue_deletes_its_tag_counts),
        TEST_BOTH(test_a_large_batch_upserts_every_pair_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
