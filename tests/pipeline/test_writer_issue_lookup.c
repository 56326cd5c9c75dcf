/* writer issue lookup: the issues of a batch are looked up many hashes per
 * statement (events_write_issue_find_chunk), rows matched to hashes by
 * hash, per project — on SQLite and on Postgres. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/events_write.h"
#include "pipeline/writer.h"
#include "writer_support.h"

struct lstate {
    struct wfix *f;
    struct writer *w;
    int64_t other_project; /* a second project of the same store */
};

static int setup(void **state, bool postgres)
{
    struct lstate *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    *state = s;
    char key[PUBLIC_KEY_HEX + 1];
    if (wfix_open(&s->f, postgres, 1000, 4096) != 0 || writer_new(&s->f->srv, &s->w) != 0)
        return -1;
    return projects_create(store_writer(s->f->srv.store), "lookup-other", &s->other_project, key);
}

static int setup_sqlite(void **state)
{
    return setup(state, false);
}
static int setup_postgres(void **state)
{
    return setup(state, true);
}

static int teardown(void **state)
{
    struct lstate *s = *state;
    if (!s) return 0;
    writer_free(s->w);
    if (s->f) wfix_close(s->f);
    free(s);
    return 0;
}

/* A fake MD5 hex for number k. */
static void hash_of(unsigned k, char out[33])
{
    snprintf(out, 33, "%032x", 0xabc000u + k);
}

/* Creates the issue of hash k in project_id straight through the store. */
static int64_t create_issue(struct db *db, int64_t project_id, unsigned k)
{
    char hash[33];
    hash_of(k, hash);
    struct event_row row = {
        .project_id = project_id, .hash = hash, .title = "lookup", .timestamp_ms = 1700000000000};
    int64_t id = 0;
    assert_int_equal(events_write_issue_create(db, &row, &id), 0);
    return id;
}

static void test_chunk_lookup_matches_rows_to_hashes_within_one_project(void **state)
{
    struct lstate *s = *state;
    struct db *db = store_writer(s->f->srv.store);
    int64_t a = s->f->project_id, b = s->other_project;
    int64_t ids_a[10], ids_b[3];
    for (unsigned k = 0; k < 10; k++)
        ids_a[k] = create_issue(db, a, k);
    for (unsigned k = 0; k < 3; k++) /* the same hashes, another project */
        ids_b[k] = create_issue(db, b, k);
    assert_int_equal(
        wfix_exec(s->f, "UPDATE issues SET status = 'resolved' WHERE id = $1", ids_a[7], NULL), 0);
    assert_int_equal(
        wfix_exec(s->f, "UPDATE issues SET status = 'ignored' WHERE id = $1", ids_a[2], NULL), 0);

    /* A full chunk, in an order unlike the rows', with missing and repeated hashes. */
    static const unsigned ask[EVENTS_WRITE_FIND_CHUNK] = {9, 40, 7,  0, 9, 41, 2,  3,
                                                          8, 1,  42, 6, 5, 4,  43, 0};
    char hashes[EVENTS_WRITE_FIND_CHUNK][33];
    const char *hp[EVENTS_WRITE_FIND_CHUNK];
    int64_t ids[EVENTS_WRITE_FIND_CHUNK];
    enum issue_status st[EVENTS_WRITE_FIND_CHUNK];
    for (int i = 0; i < EVENTS_WRITE_FIND_CHUNK; i++) {
        hash_of(ask[i], hashes[i]);
        hp[i] = hashes[i];
    }
    assert_int_equal(events_write_issue_find_chunk(db, a, hp, EVENTS_WRITE_FIND_CHUNK, ids, st), 0);
    for (int i = 0; i < EVENTS_WRITE_FIND_CHUNK; i++) {
        assert_int_equal(ids[i], ask[i] < 10 ? ids_a[ask[i]] : 0);
        enum issue_status want = ask[i] == 7   ? ISSUE_RESOLVED
                                 : ask[i] == 2 ? ISSUE_IGNORED
                                               : ISSUE_UNRESOLVED;
        assert_int_equal(st[i], want);
    }

    /* The other project sees its own rows only; a part-full chunk. */
    assert_int_equal(events_write_issue_find_chunk(db, b, hp, 5, ids, st), 0);
    assert_int_equal(ids[0], 0);        /* 9: only in project a */
    assert_int_equal(ids[1], 0);        /* 40: nowhere */
    assert_int_equal(ids[2], 0);        /* 7: only in project a */
    assert_int_equal(ids[3], ids_b[0]); /* 0: project b's own issue */
    assert_int_equal(ids[4], 0);
    assert_int_equal(st[3], ISSUE_UNRESOLVED);

    /* One hash alone. */
    assert_int_equal(events_write_issue_find_chunk(db, a, hp + 2, 1, ids, st), 0);
    assert_int_equal(ids[0], ids_a[7]);
    assert_int_equal(st[0], ISSUE_RESOLVED);
}

/* An event of project_id grouped by fingerprint "issue-k", titled after it. */
static struct grouped_event *event_on(struct lstate *s, int64_t project_id, unsigned id, unsigned k)
{
    char json[160];
    snprintf(json, sizeof json, "{\"message\":\"lookup issue-%u\",\"fingerprint\":[\"issue-%u\"]}",
             k, k);
    struct raw_event *raw = wfix_event(s->f, id, json, NULL);
    raw->project_id = project_id;
    struct grouped_event *ev = wfix_group(s->f->worker, raw);
    assert_non_null(ev);
    return ev;
}

static int64_t q2(struct lstate *s, const char *sql, int64_t project_id, const char *text)
{
    struct db *db = store_acquire(s->f->srv.store);
    struct db_stmt *st = db_prepare(db, sql);
    int64_t v = -1;
    if (st) {
        db_bind_int64(st, 1, project_id);
        if (text) db_bind_text(st, 2, text, (size_t)-1);
        if (db_step(st) == DB_ROW) v = db_col_int64(st, 0);
        db_finish(st);
    }
    store_release(s->f->srv.store, db);
    return v;
}

static const char SQL_ISSUES[] = "SELECT COUNT(*) FROM issues WHERE project_id = $1";
static const char SQL_SEEN_OF[] =
    "SELECT times_seen FROM issues WHERE project_id = $1 AND title = $2";
static const char SQL_ALERTS[] = "SELECT COUNT(*) FROM alerts WHERE project_id = $1 AND kind = $2";

static void test_batch_over_two_projects_finds_creates_and_reopens_its_issues(void **state)
{
    struct lstate *s = *state;
    int64_t a = s->f->project_id, b = s->other_project;
    /* Before: a has issues 0..19, b has 0..4 (same fingerprints, own rows). */
    struct grouped_event *evs[128];
    size_t n = 0;
    for (unsigned k = 0; k < 20; k++)
        evs[n++] = event_on(s, a, 1000 + k, k);
    for (unsigned k = 0; k < 5; k++)
        evs[n++] = event_on(s, b, 2000 + k, k);
    assert_int_equal(writer_commit_batch(s->w, evs, n), 0);
    assert_int_equal(q2(s, SQL_ISSUES, a, NULL), 20);
    assert_int_equal(q2(s, SQL_ISSUES, b, NULL), 5);
    assert_int_equal(wfix_exec(s->f,
                               "UPDATE issues SET status = 'resolved' WHERE project_id = $1"
                               " AND title = $2",
                               a, "lookup issue-3"),
                     0);

    /* One batch: a's issues 0..39 (20 stored, 20 new; 3 regresses), b's
     * 0..9 (5 stored, 5 new), the two projects interleaved; a's issues
     * 0..9 twice; and a resend of event 1000 under a new issue 99, which
     * is created and then removed (its only event is a duplicate). */
    n = 0;
    for (unsigned k = 0; k < 40; k++) {
        evs[n++] = event_on(s, a, 3000 + k, k);
        if (k < 10) evs[n++] = event_on(s, b, 4000 + k, k);
        if (k < 10) evs[n++] = event_on(s, a, 5000 + k, k);
    }
    evs[n++] = event_on(s, a, 1000, 99);
    assert_int_equal(writer_commit_batch(s->w, evs, n), 0);

    assert_int_equal(q2(s, SQL_ISSUES, a, NULL), 40);
    assert_int_equal(q2(s, SQL_ISSUES, b, NULL), 10);
    char title[32];
    for (unsigned k = 0; k < 40; k++) {
        snprintf(title, sizeof title, "lookup issue-%u", k);
        assert_int_equal(q2(s, SQL_SEEN_OF, a, title), (k < 20) + 1 + (k < 10));
        if (k < 10) assert_int_equal(q2(s, SQL_SEEN_OF, b, title), (k < 5) + 1);
    }
    assert_int_equal(q2(s, SQL_ALERTS, a, "new"), 40);
    assert_int_equal(q2(s, SQL_ALERTS, b, "new"), 10);
    assert_int_equal(q2(s, SQL_ALERTS, a, "regression"), 1);
    assert_int_equal(q2(s, SQL_ALERTS, b, "regression"), 0);
    assert_int_equal(
        q2(s, "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND status = $2", a, "unresolved"),
        40);
    /* Every event sits on the issue of its own project and fingerprint. */
    assert_int_equal(
        wfix_query_int(s->f,
                       "SELECT COUNT(*) FROM events e JOIN issues i ON i.id = e.issue_id"
                       " WHERE i.project_id <> e.project_id OR i.title <> e.title",
                       0),
        0);
}

#define LOOKUP_TESTS(setup_fn)                                                                     \
    cmocka_unit_test_setup_teardown(test_chunk_lookup_matches_rows_to_hashes_within_one_project,   \
                                    setup_fn, teardown),                                           \
        cmocka_unit_test_setup_teardown(                                                           \
            test_batch_over_two_projects_finds_creates_and_reopens_its_issues, setup_fn, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {LOOKUP_TESTS(setup_sqlite)};
    const struct CMUnitTest postgres_tests[] = {LOOKUP_TESTS(setup_postgres)};
    int failed = cmocka_run_group_tests_name("issue lookup on SQLite", sqlite_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("issue lookup on Postgres", postgres_tests, NULL, NULL);
    return failed;
}
