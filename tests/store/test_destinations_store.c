/* destinations at rest, on both backends: with a secrets key the config
 * column is sealed (no secret readable in the row), rows stored in clear
 * before the key keep working and are sealed by destinations_seal_plaintext,
 * and a row sealed with a key the server does not have reads as an empty
 * config with config_error instead of failing. */
#include "support.h"

#include "base/secretbox.h"
#include "store/destinations.h"

static const char KEY_HEX[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char OTHER_HEX[] = "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static struct db *open_keyed(struct test_store *ts, const char *hex)
{
    struct config cfg = ts->tb.cfg;
    cfg.secrets_key_set = true;
    assert_int_equal(secretbox_key_parse(hex, cfg.secrets_key), 0);
    static struct config keep[4]; /* the connection borrows the key: keep it alive */
    static int n;
    struct config *c = &keep[n++ % 4];
    *c = cfg;
    struct db *db = NULL;
    char err[256];
    assert_int_equal(db_open(c, &db, err, sizeof err), 0);
    return db;
}

static int64_t create(struct db *db, int64_t pid, const char *token)
{
    cJSON *cfg = json_build("{s:s, s:{s:s}}", "webhook_url", "https://hooks.example/x",
                            "webhook_headers", "Authorization", token);
    int64_t id = 0;
    assert_int_equal(destinations_create(db, pid, "generic_webhook", "d", 1, cfg, 1, &id), 0);
    cJSON_Delete(cfg);
    return id;
}

/* The config column exactly as stored. Caller frees. */
static char *stored(struct db *db, int64_t id)
{
    struct db_stmt *st = db_prepare(db, "SELECT config FROM destinations WHERE id = $1");
    assert_non_null(st);
    db_bind_int64(st, 1, id);
    assert_int_equal(db_step(st), DB_ROW);
    char *text = strdup(db_col_text(st, 0));
    db_finish(st);
    return text;
}

static const char *token_of(struct db *db, int64_t id, cJSON **row)
{
    assert_int_equal(destinations_get(db, 0, id, row), 0);
    cJSON *h = json_get(json_get(*row, "config"), "webhook_headers");
    return json_str(json_get(h, "Authorization"));
}

static void test_with_a_key_configs_are_sealed_at_rest_and_read_back(void **state)
{
    struct test_store *ts = *state;
    struct db *plain = store_writer(ts->store), *keyed = open_keyed(ts, KEY_HEX);
    int64_t pid = test_project(plain, "sealed");
    int64_t id = create(keyed, pid, "Bearer tok-sealed");
    char *text = stored(keyed, id);
    assert_true(secretbox_is_sealed(text));
    assert_null(strstr(text, "tok-sealed"));
    assert_null(strstr(text, "hooks.example"));
    free(text);
    cJSON *row = NULL;
    assert_string_equal(token_of(keyed, id, &row), "Bearer tok-sealed");
    assert_null(json_get(row, "config_error"));
    cJSON_Delete(row);

    cJSON *cfg = json_build("{s:s}", "webhook_url", "https://hooks.example/y");
    assert_int_equal(destinations_update(keyed, pid, id, NULL, -1, cfg), 0);
    cJSON_Delete(cfg);
    text = stored(keyed, id);
    assert_true(secretbox_is_sealed(text));
    free(text);
    db_close(keyed);
}

static void test_without_the_key_a_sealed_row_reads_empty_with_its_reason(void **state)
{
    struct test_store *ts = *state;
    struct db *plain = store_writer(ts->store), *keyed = open_keyed(ts, KEY_HEX);
    struct db *other = open_keyed(ts, OTHER_HEX);
    int64_t pid = test_project(plain, "locked");
    int64_t id = create(keyed, pid, "Bearer tok-locked");
    cJSON *row = NULL;
    assert_null(token_of(plain, id, &row));
    assert_int_equal(json_size(json_get(row, "config")), 0);
    assert_non_null(strstr(json_str(json_get(row, "config_error")), "SECRETS_KEY"));
    cJSON_Delete(row);
    assert_null(token_of(other, id, &row));
    assert_non_null(strstr(json_str(json_get(row, "config_error")), "another key"));
    cJSON_Delete(row);
    cJSON *rows = NULL;
    assert_int_equal(destinations_list(plain, pid, 0, 10, &rows), 0); /* the list still answers */
    assert_int_equal(json_size(rows), 1);
    cJSON_Delete(rows);
    db_close(other);
    db_close(keyed);
}

static void test_plaintext_rows_keep_working_and_are_sealed_on_request(void **state)
{
    struct test_store *ts = *state;
    struct db *plain = store_writer(ts->store), *keyed = open_keyed(ts, KEY_HEX);
    int64_t pid = test_project(plain, "legacy");
    int64_t a = create(plain, pid, "Bearer tok-a"), b = create(plain, pid, "Bearer tok-b");
    char *text = stored(plain, a);
    assert_non_null(strstr(text, "tok-a")); /* no key: in clear, as before */
    free(text);
    cJSON *row = NULL;
    assert_string_equal(token_of(keyed, a, &row), "Bearer tok-a");
    cJSON_Delete(row);

    int sealed = -1;
    assert_int_equal(destinations_seal_plaintext(plain, &sealed), 0); /* no key: nothing */
    assert_int_equal(sealed, 0);
    assert_int_equal(destinations_seal_plaintext(keyed, &sealed), 0);
    assert_int_equal(sealed, 2);
    for (int64_t id = a; id <= b; id++) {
        text = stored(keyed, id);
        assert_true(secretbox_is_sealed(text));
        assert_null(strstr(text, "tok-"));
        free(text);
    }
    assert_string_equal(token_of(keyed, b, &row), "Bearer tok-b");
    cJSON_Delete(row);
    assert_int_equal(destinations_seal_plaintext(keyed, &sealed), 0);
    assert_int_equal(sealed, 0);
    db_close(keyed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_BOTH(test_with_a_key_configs_are_sealed_at_rest_and_read_back),
        TEST_BOTH(test_without_the_key_a_sealed_row_reads_empty_with_its_reason),
        TEST_BOTH(test_plaintext_rows_keep_working_and_are_sealed_on_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
