/* projects.h on both backends: projects, DSN keys, cascading delete. */
#include "base/clock.h"
#include "support.h"
#include "store/projects.h"

static struct db *writer(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static int64_t create(struct db *db, const char *name, char key[PUBLIC_KEY_HEX + 1])
{
    int64_t id = 0;
    char scratch[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, name, &id, key ? key : scratch), 0);
    assert_true(id > 0);
    return id;
}

static int64_t scalar_for(struct db *db, const char *sql, int64_t arg)
{
    struct db_stmt *st = db_prepare(db, sql);
    assert_non_null(st);
    assert_int_equal(db_bind_int64(st, 1, arg), 0);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finish(st);
    return v;
}

static void test_create_makes_a_project_with_its_first_key(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    long long before = clock_wall_ms();
    int64_t id = create(db, "backend", key);
    assert_int_equal(strlen(key), PUBLIC_KEY_HEX);
    assert_int_equal(strspn(key, "0123456789abcdef"), PUBLIC_KEY_HEX);

    cJSON *p = NULL;
    assert_int_equal(projects_get(db, id, &p), 0);
    assert_int_equal(json_i64(json_get(p, "id")), id);
    assert_string_equal(json_str(json_get(p, "name")), "backend");
    int64_t created = json_i64(json_get(p, "created_at"));
    assert_true(created >= before && created <= clock_wall_ms());
    assert_int_equal(json_i64(json_get(p, "rate_limit_per_minute")), 0);
    assert_true(cJSON_IsNull(json_get(p, "active_script_version")));
    assert_string_equal(json_str(json_get(p, "public_key")), key);
    cJSON_Delete(p);

    int64_t looked_up = 0;
    int rate = -1;
    assert_int_equal(keys_lookup(db, key, &looked_up, &rate), 0);
    assert_int_equal(looked_up, id);
    assert_int_equal(rate, 0);
}

static void test_keys_are_random(void **state)
{
    struct db *db = writer(state);
    char a[PUBLIC_KEY_HEX + 1], b[PUBLIC_KEY_HEX + 1];
    create(db, "a", a);
    create(db, "b", b);
    assert_string_not_equal(a, b);
}

static void test_create_refuses_bad_names(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    int64_t id = 0;
    char longname[PROJECT_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(projects_create(db, "", &id, key), -EINVAL);
    assert_int_equal(projects_create(db, NULL, &id, key), -EINVAL);
    assert_int_equal(projects_create(db, longname, &id, key), -EINVAL);
    assert_int_equal(projects_create(db, "bad \xff\xfe utf-8", &id, key), -EINVAL);
    longname[PROJECT_NAME_MAX] = '\0';
    assert_int_equal(projects_create(db, longname, &id, key), 0);
    int64_t n = -1;
    assert_int_equal(projects_count(db, &n), 0);
    assert_int_equal(n, 1);
}

static void test_get_of_an_unknown_project_is_enoent(void **state)
{
    cJSON *p = NULL;
    assert_int_equal(projects_get(writer(state), 4242, &p), -ENOENT);
    assert_null(p);
}

static void test_list_pages_by_id(void **state)
{
    struct db *db = writer(state);
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        ids[i] = create(db, name, NULL);
    }
    int64_t after = 0;
    int seen = 0;
    for (int page = 0; page < 4; page++) {
        cJSON *arr = NULL;
        assert_int_equal(projects_list(db, after, 2, &arr), 0);
        assert_true(cJSON_IsArray(arr));
        size_t n = json_size(arr);
        assert_int_equal(n, page < 2 ? 2 : page == 2 ? 1 : 0);
        for (size_t i = 0; i < n; i++) {
            cJSON *p = json_at(arr, i);
            assert_int_equal(json_i64(json_get(p, "id")), ids[seen]);
            assert_non_null(json_str(json_get(p, "public_key")));
            after = ids[seen++];
        }
        cJSON_Delete(arr);
    }
    assert_int_equal(seen, 5);
    int64_t count = 0;
    assert_int_equal(projects_count(db, &count), 0);
    assert_int_equal(count, 5);
}

static void test_update_changes_only_what_is_given(void **state)
{
    struct db *db = writer(state);
    int64_t id = create(db, "before", NULL);
    cJSON *p = NULL;

    assert_int_equal(projects_update(db, id, NULL, 120), 0);
    assert_int_equal(projects_get(db, id, &p), 0);
    assert_string_equal(json_str(json_get(p, "name")), "before");
    assert_int_equal(json_i64(json_get(p, "rate_limit_per_minute")), 120);
    cJSON_Delete(p);

    assert_int_equal(projects_update(db, id, "after", -1), 0);
    assert_int_equal(projects_get(db, id, &p), 0);
    assert_string_equal(json_str(json_get(p, "name")), "after");
    assert_int_equal(json_i64(json_get(p, "rate_limit_per_minute")), 120);
    cJSON_Delete(p);

    assert_int_equal(projects_update(db, id, "", -1), -EINVAL);
    assert_int_equal(projects_update(db, id + 100, "x", 1), -ENOENT);
}

/* One issue, event, alert, destination, delivery and script of project id. */
static void add_dependent_rows(struct db *db, int64_t project_id)
{
    static const char *const inserts[] = {
        "INSERT INTO issues (project_id, hash, title, first_seen, last_seen) VALUES ($1, 'h', 't', "
        "1, 1)",
        "INSERT INTO events (project_id, event_id, issue_id, timestamp, received_at, payload)"
        " SELECT $1, $2, id, 1, 1, $2 FROM issues WHERE project_id = $1",
        "INSERT INTO alerts (project_id, issue_id, kind, created_at)"
        " SELECT $1, id, 'new', 1 FROM issues WHERE project_id = $1",
        "INSERT INTO destinations (project_id, type, name, created_at) VALUES ($1, "
        "'internal_logger', 'log', 1)",
        "INSERT INTO deliveries (alert_id, destination_id, next_attempt_at, created_at, updated_at)"
        " SELECT a.id, d.id, 1, 1, 1 FROM alerts a JOIN destinations d ON d.project_id = "
        "a.project_id"
        " WHERE a.project_id = $1",
        "INSERT INTO scripts (project_id, version, source, created_at) VALUES ($1, 1, 'return {}', "
        "1)",
    };
    unsigned char event_id[16];
    for (int i = 0; i < 16; i++)
        event_id[i] = (unsigned char)(project_id * 16 + i);
    for (size_t i = 0; i < sizeof inserts / sizeof inserts[0]; i++) {
        struct db_stmt *st = db_prepare(db, inserts[i]);
        assert_non_null(st);
        assert_int_equal(db_bind_int64(st, 1, project_id), 0);
        if (i == 1) assert_int_equal(db_bind_blob(st, 2, event_id, sizeof event_id), 0);
        assert_int_equal(db_step(st), DB_DONE);
        assert_int_equal(db_changes(st), 1);
    }
}

static int64_t rows_of(struct db *db, int64_t project_id)
{
    return scalar_for(
        db,
        "SELECT (SELECT COUNT(*) FROM issues WHERE project_id = $1)"
        " + (SELECT COUNT(*) FROM events WHERE project_id = $1)"
        " + (SELECT COUNT(*) FROM alerts WHERE project_id = $1)"
        " + (SELECT COUNT(*) FROM destinations WHERE project_id = $1)"
        " + (SELECT COUNT(*) FROM deliveries d JOIN destinations x ON x.id = d.destination_id"
        "    WHERE x.project_id = $1)"
        " + (SELECT COUNT(*) FROM scripts WHERE project_id = $1)"
        " + (SELECT COUNT(*) FROM project_keys WHERE project_id = $1)",
        project_id);
}

static void test_delete_cascades_to_everything_of_the_project(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    int64_t doomed = create(db, "doomed", key);
    int64_t kept = create(db, "kept", NULL);
    add_dependent_rows(db, doomed);
    add_dependent_rows(db, kept);
    assert_int_equal(rows_of(db, doomed), 7);
    assert_int_equal(rows_of(db, kept), 7);

    assert_int_equal(projects_delete(db, doomed), 0);
    assert_int_equal(rows_of(db, doomed), 0);
    assert_int_equal(rows_of(db, kept), 7);
    int64_t pid;
    assert_int_equal(keys_lookup(db, key, &pid, NULL), -ENOENT);
    assert_int_equal(projects_delete(db, doomed), -ENOENT);
    cJSON *p = NULL;
    assert_int_equal(projects_get(db, doomed, &p), -ENOENT);
}

static void test_keys_create_list_and_revoke(void **state)
{
    struct db *db = writer(state);
    char first[PUBLIC_KEY_HEX + 1], second[PUBLIC_KEY_HEX + 1];
    int64_t id = create(db, "keys", first);
    assert_int_equal(keys_create(db, id, second), 0);
    assert_string_not_equal(first, second);

    cJSON *arr = NULL;
    assert_int_equal(keys_list(db, id, &arr), 0);
    assert_int_equal(json_size(arr), 2);
    assert_string_equal(json_str(json_get(json_at(arr, 0), "public_key")), first);
    assert_string_equal(json_str(json_get(json_at(arr, 1), "public_key")), second);
    assert_true(cJSON_IsNull(json_get(json_at(arr, 0), "revoked_at")));
    assert_true(json_is_int(json_get(json_at(arr, 0), "created_at")));
    cJSON_Delete(arr);

    assert_int_equal(keys_revoke(db, id, first), 0);
    assert_int_equal(keys_revoke(db, id, first), 0); /* again: still revoked */
    int64_t pid = 0;
    assert_int_equal(keys_lookup(db, first, &pid, NULL), -ENOENT);
    assert_int_equal(keys_lookup(db, second, &pid, NULL), 0);
    assert_int_equal(pid, id);

    cJSON *p = NULL;
    assert_int_equal(projects_get(db, id, &p), 0); /* the oldest active key */
    assert_string_equal(json_str(json_get(p, "public_key")), second);
    cJSON_Delete(p);

    assert_int_equal(keys_list(db, id, &arr), 0);
    assert_true(json_is_int(json_get(json_at(arr, 0), "revoked_at")));
    cJSON_Delete(arr);

    assert_int_equal(keys_revoke(db, id, second), 0);
    assert_int_equal(projects_get(db, id, &p), 0);
    assert_true(cJSON_IsNull(json_get(p, "public_key")));
    cJSON_Delete(p);
}

static void test_a_key_cannot_be_revoked_through_another_project(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    int64_t owner = create(db, "owner", key);
    int64_t other = create(db, "other", NULL);
    assert_int_equal(keys_revoke(db, other, key), -ENOENT);
    int64_t pid = 0;
    assert_int_equal(keys_lookup(db, key, &pid, NULL), 0);
    assert_int_equal(pid, owner);
}

static void test_unknown_and_malformed_keys_are_enoent(void **state)
{
    struct db *db = writer(state);
    int64_t id = create(db, "p", NULL);
    int64_t pid = 0;
    assert_int_equal(keys_lookup(db, "0123456789abcdef0123456789abcdef", &pid, NULL), -ENOENT);
    assert_int_equal(keys_lookup(db, "' OR 1=1 --", &pid, NULL), -ENOENT);
    assert_int_equal(keys_lookup(db, "", &pid, NULL), -ENOENT);
    assert_int_equal(keys_revoke(db, id, "not-a-key"), -ENOENT);
}

static void test_keys_of_an_unknown_project_are_enoent(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    cJSON *arr = NULL;
    assert_int_equal(keys_list(db, 999, &arr), -ENOENT);
    assert_int_equal(keys_create(db, 999, key), -ENOENT);
}

static void test_lookup_reports_the_rate_limit(void **state)
{
    struct db *db = writer(state);
    char key[PUBLIC_KEY_HEX + 1];
    int64_t id = create(db, "limited", key);
    assert_int_equal(projects_update(db, id, NULL, 600), 0);
    int64_t pid = 0;
    int rate = 0;
    assert_int_equal(keys_lookup(db, key, &pid, &rate), 0);
    assert_int_equal(rate, 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_create_makes_a_project_with_its_first_key),
        TEST_BOTH(test_keys_are_random),
        TEST_BOTH(test_create_refuses_bad_names),
        TEST_BOTH(test_get_of_an_unknown_project_is_enoent),
        TEST_BOTH(test_list_pages_by_id),
        TEST_BOTH(test_update_changes_only_what_is_given),
        TEST_BOTH(test_delete_cascades_to_everything_of_the_project),
        TEST_BOTH(test_keys_create_list_and_revoke),
        TEST_BOTH(test_a_key_cannot_be_revoked_through_another_project),
        TEST_BOTH(test_unknown_and_malformed_keys_are_enoent),
        TEST_BOTH(test_keys_of_an_unknown_project_are_enoent),
        TEST_BOTH(test_lookup_reports_the_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
