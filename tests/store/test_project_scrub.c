/* store/project_scrub on both backends: a new project scrubs with the
 * defaults, settings round-trip, only changed projects are listed, and the
 * project row shows them. */
#include "support.h"
#include "store/project_scrub.h"

static struct db *writer(void **state)
{
    return store_writer(((struct test_store *)*state)->store);
}

static void patched(struct scrub_settings *s, const char *json)
{
    scrub_settings_default(s);
    cJSON *patch = json_parse_text(json);
    assert_non_null(patch);
    char err[256];
    assert_int_equal(scrub_settings_patch(s, patch, err, sizeof err), 0);
    cJSON_Delete(patch);
}

static void test_a_new_project_scrubs_with_the_defaults(void **state)
{
    struct db *db = writer(state);
    int64_t id = test_project(db, "fresh");
    struct scrub_settings got, want;
    scrub_settings_default(&want);
    assert_int_equal(project_scrub_get(db, id, &got), 0);
    assert_true(scrub_settings_equal(&got, &want));
    assert_true(got.enabled);
    assert_false(got.scrub_ip_addresses);

    cJSON *row = NULL;
    assert_int_equal(projects_get(db, id, &row), 0);
    char *text = json_print(json_get(row, "scrubbing"), 0);
    assert_string_equal(text, "{\"enabled\":true,\"scrub_ip_addresses\":false,"
                              "\"sensitive_fields\":[],\"safe_fields\":[]}");
    free(text);
    cJSON_Delete(row);
}

static void test_settings_round_trip_and_show_in_the_row(void **state)
{
    struct db *db = writer(state);
    int64_t id = test_project(db, "custom");
    struct scrub_settings s, got;
    patched(&s,
            "{\"enabled\": false, \"scrub_ip_addresses\": true,"
            " \"sensitive_fields\": [\"ssn\", \"card-holder\"], \"safe_fields\": [\"author\"]}");
    assert_int_equal(project_scrub_set(db, id, &s), 0);
    assert_int_equal(project_scrub_get(db, id, &got), 0);
    assert_true(scrub_settings_equal(&s, &got));

    cJSON *list = NULL;
    assert_int_equal(projects_list(db, 0, 10, &list), 0);
    cJSON *row = json_at(list, 0);
    char *text = json_print(json_get(row, "scrubbing"), 0);
    assert_string_equal(text, "{\"enabled\":false,\"scrub_ip_addresses\":true,"
                              "\"sensitive_fields\":[\"ssn\",\"card-holder\"],"
                              "\"safe_fields\":[\"author\"]}");
    free(text);
    cJSON_Delete(list);

    /* Back to the defaults, lists emptied. */
    scrub_settings_default(&s);
    assert_int_equal(project_scrub_set(db, id, &s), 0);
    assert_int_equal(project_scrub_get(db, id, &got), 0);
    assert_true(scrub_settings_equal(&s, &got));
}

static void test_unknown_project_is_enoent(void **state)
{
    struct db *db = writer(state);
    struct scrub_settings s;
    scrub_settings_default(&s);
    assert_int_equal(project_scrub_get(db, 999999, &s), -ENOENT);
    assert_int_equal(project_scrub_set(db, 999999, &s), -ENOENT);
}

struct seen {
    int64_t ids[8];
    size_t n;
    int stop_after;
};

static int collect(void *ctx, int64_t project_id, const struct scrub_settings *s)
{
    struct seen *seen = ctx;
    assert_true(seen->n < 8);
    assert_true(!s->enabled || s->scrub_ip_addresses || s->n_sensitive || s->n_safe);
    seen->ids[seen->n++] = project_id;
    return seen->stop_after && (int)seen->n == seen->stop_after ? 7 : 0;
}

static void test_for_each_lists_only_changed_projects(void **state)
{
    struct db *db = writer(state);
    int64_t plain = test_project(db, "plain");
    int64_t a = test_project(db, "a");
    int64_t b = test_project(db, "b");
    struct scrub_settings s;
    patched(&s, "{\"scrub_ip_addresses\": true}");
    assert_int_equal(project_scrub_set(db, a, &s), 0);
    patched(&s, "{\"safe_fields\": [\"x\"]}");
    assert_int_equal(project_scrub_set(db, b, &s), 0);

    struct seen seen = {0};
    assert_int_equal(project_scrub_for_each(db, collect, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.ids[0], a);
    assert_int_equal(seen.ids[1], b);
    assert_true(plain < a);

    struct seen first = {.stop_after = 1};
    assert_int_equal(project_scrub_for_each(db, collect, &first), 7);
    assert_int_equal(first.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_a_new_project_scrubs_with_the_defaults),
        TEST_BOTH(test_settings_round_trip_and_show_in_the_row),
        TEST_BOTH(test_unknown_project_is_enoent),
        TEST_BOTH(test_for_each_lists_only_changed_projects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
