/* The plans of the issue search (issues_list_plan, issue 19: every form of
 * the language answers within 100 ms over 100,000 issues because each one
 * starts from an index): each form's statement, as issues_list assembles
 * it, must read issues and issue_tags through an index, never by a scan of
 * the whole table, and the forms whose speed depends on one index must
 * name it. A plan, not a timing: the test holds on a loaded machine and
 * fails when a migration or a change of the statement loses the index.
 * Postgres chooses by cost, and on a table this small a scan is cheaper:
 * with enable_seqscan off it still scans only where no index can serve. */
#include "support.h"

#include <stdlib.h>

#include "model/issue_search.h"
#include "store/issues.h"

enum { ISSUES = 60, PLAN_MAX = 8192 };

static void add_tag(struct db *db, int64_t issue, const char *key, const char *value)
{
    struct db_stmt *st = db_prepare(db, "INSERT INTO issue_tags (issue_id, key, value, times_seen,"
                                        " last_seen) VALUES ($1, $2, $3, 1, 1)");
    assert_non_null(st);
    db_bind_int64(st, 1, issue);
    db_bind_text(st, 2, key, (size_t)-1);
    db_bind_text(st, 3, value, (size_t)-1);
    assert_int_equal(db_step(st), DB_DONE);
    db_finish(st);
}

/* ISSUES issues, tagged like the bench's (bench/search_seed.c): every one
 * with environment, release, tenant and user; browser on every other one;
 * canary on one. */
static int64_t seed(struct db *db)
{
    int64_t pid = test_project(db, "plans");
    for (int i = 0; i < ISSUES; i++) {
        char hash[33], title[64], v[32];
        snprintf(hash, sizeof hash, "%032d", i);
        snprintf(title, sizeof title, "ErrorType%d: failed to process item %d", i % 50, i);
        struct db_stmt *st = db_prepare(
            db, "INSERT INTO issues (project_id, hash, title, culprit, message, level, status,"
                " first_seen, last_seen, times_seen, assignee_id) VALUES ($1, $2, $3, 'app.mod',"
                " 'token', $4, $5, $6, $7, 1, NULL) RETURNING id");
        assert_non_null(st);
        db_bind_int64(st, 1, pid);
        db_bind_text(st, 2, hash, (size_t)-1);
        db_bind_text(st, 3, title, (size_t)-1);
        db_bind_text(st, 4, i % 3 ? "error" : "warning", (size_t)-1);
        db_bind_text(st, 5, i % 5 ? "unresolved" : "resolved", (size_t)-1);
        db_bind_int64(st, 6, 1000 + i);
        db_bind_int64(st, 7, 2000 + i * 7 % ISSUES);
        assert_int_equal(db_step(st), DB_ROW);
        int64_t id = db_col_int64(st, 0);
        db_finish(st);
        add_tag(db, id, "environment", i % 3 ? "production" : "staging");
        snprintf(v, sizeof v, "1.%d.0", i % 4);
        add_tag(db, id, "release", v);
        snprintf(v, sizeof v, "t%d", i % 10);
        add_tag(db, id, "tenant", v);
        snprintf(v, sizeof v, "u%d", i % 20);
        add_tag(db, id, "user.id", v);
        if (i % 2) add_tag(db, id, "browser", "Firefox");
        if (i == 7) add_tag(db, id, "canary", "yes");
    }
    return pid;
}

struct form {
    const char *query, *status; /* status NULL: all */
    enum issue_sort sort;
    bool cursor;
    const char *index; /* an index the plan must name (NULL: any) */
    bool sqlite_only;  /* … on SQLite (Postgres may choose another by cost) */
};

static const struct form FORMS[] = {
    {"", "unresolved", ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"is:ignored", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"level:warning", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"environment:staging", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"release:1.2.0", NULL, ISSUE_SORT_FIRST_SEEN, false, NULL, false},
    {"tenant:\"t3\"", NULL, ISSUE_SORT_LAST_SEEN, true, NULL, false},
    {"!tenant:t3", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"user.id:u4 user.email:a@b.c", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"assigned:none", NULL, ISSUE_SORT_LAST_SEEN, false, NULL, false},
    {"assigned:me", "unresolved", ISSUE_SORT_USERS, false, NULL, false},
    {"has:canary", NULL, ISSUE_SORT_LAST_SEEN, false, "issue_tags_key_issue", false},
    {"has:tenant", NULL, ISSUE_SORT_TIMES_SEEN, false, "issue_tags_key_issue", false},
    {"!has:canary", NULL, ISSUE_SORT_LAST_SEEN, false, "issue_tags_key_issue", false},
    {"!has:tenant", NULL, ISSUE_SORT_LAST_SEEN, false, "issue_tags_key_issue", false},
    {"!has:tenant", "unresolved", ISSUE_SORT_USERS, true, "issue_tags_key_issue", false},
    {"!has:browser level:error", NULL, ISSUE_SORT_FIRST_SEEN, false, "issue_tags_key_issue", false},
    {"token7", NULL, ISSUE_SORT_LAST_SEEN, false, "issues_fts", true},
    {"\"item 42\"", NULL, ISSUE_SORT_USERS, false, "issues_fts", true},
    {"is:unresolved level:error environment:production tenant:t7 ErrorType7", NULL,
     ISSUE_SORT_LAST_SEEN, false, NULL, false},
};

/* A line that reads a whole table: SQLite's "SCAN issues" (without an
 * index) or "SCAN issue_tags", Postgres' "Seq Scan on issues". */
static const char *table_scan(const char *plan, bool postgres)
{
    static const char *const SQLITE[] = {"SCAN issues\n", "SCAN issue_tags", "SCAN t\n",
                                         "SCAN issues USING", NULL};
    static const char *const PG[] = {"Seq Scan on issues", "Seq Scan on issue_tags", NULL};
    for (const char *const *p = postgres ? PG : SQLITE; *p; p++)
        if (strstr(plan, *p)) return *p;
    return NULL;
}

static void test_every_search_form_reads_through_an_index(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    bool postgres = db_kind(db) == DB_POSTGRES;
    int64_t pid = seed(db);
    if (postgres) {
        assert_int_equal(db_exec(db, "ANALYZE issues; ANALYZE issue_tags"), 0);
        assert_int_equal(db_exec(db, "SET enable_seqscan = off"), 0);
    }
    for (size_t i = 0; i < sizeof FORMS / sizeof FORMS[0]; i++) {
        const struct form *f = &FORMS[i];
        static struct issue_search s;
        char err[256], plan[PLAN_MAX];
        assert_int_equal(issue_search_parse(f->query, 7, &s, err, sizeof err), 0);
        struct issue_query q = {.status = f->status, .search = &s, .sort = f->sort, .limit = 25};
        if (f->cursor) q.has_cursor = true, q.cursor_key = 2030, q.cursor_id = 30;
        int rc = issues_list_plan(db, pid, &q, plan, sizeof plan);
        if (rc) fprintf(stderr, "%s: %s\n", f->query, db_errmsg(db));
        assert_int_equal(rc, 0);
        if (getenv("TEST_SHOW_PLANS")) fprintf(stderr, "== %s\n%s", f->query, plan);
        const char *scan = table_scan(plan, postgres);
        bool named = !f->index || (postgres && f->sqlite_only) || strstr(plan, f->index);
        if (scan || !named)
            fail_msg("query \"%s\": %s%s in the plan:\n%s", f->query, scan ? scan : f->index,
                     scan ? "" : " missing", plan);
    }
    if (postgres) assert_int_equal(db_exec(db, "RESET enable_seqscan"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_every_search_form_reads_through_an_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
