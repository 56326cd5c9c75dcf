/* config: defaults, every rejected value naming its variable, the admin key
 * file (generated 0600, reused, overridden by the environment), admin keys
 * too short to be safe, the secrets key, DATA_DIR made 0700. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include <ftw.h>

#include <cmocka.h>

#include "base/config.h"

static const char *const all_vars[] = {
    "HOST",
    "PORT",
    "PUBLIC_URL",
    "ALLOWED_ORIGINS",
    "REQUEST_TIMEOUT",
    "HTTP_THREADS",
    "API_SECRET_KEY_ADMIN",
    "DATA_DIR",
    "SQLITE_PATH",
    "POSTGRES_ENABLED",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DATABASE",
    "WORKERS",
    "QUEUE_CAPACITY",
    "BATCH_MAX",
    "ACK_MODE",
    "RETENTION_DAYS",
    "MAX_EVENTS_PER_ISSUE",
    "STALL_TIMEOUT",
    "SHUTDOWN_TIMEOUT",
    "MAX_BODY_BYTES",
    "MAX_ENVELOPE_BYTES",
    "MAX_EVENT_BYTES",
    "MAX_JSON_DEPTH",
    "INGEST_MEMORY_LIMIT",
    "SECRETS_KEY",
    "LUA_MEMORY_LIMIT",
    "LUA_INSTRUCTION_LIMIT",
    "LUA_TIME_LIMIT_MS",
    "SCRIPT_MAX_BYTES",
    "LUA_DIR",
    "MIGRATIONS_DIR",
    "RETENTION_INTERVAL_MS",
    "NOTIFY_POLL_MS",
    "NOTIFY_RETRY_BASE_MS",
    "NOTIFY_THROTTLE_WINDOW_MS",
    "NOTIFY_CONNECT_TIMEOUT_MS",
    "NOTIFY_TIMEOUT_MS",
    "ALLOW_PRIVATE_DESTINATIONS",
    "DESTINATION_RATE_PER_MINUTE",
    "LOG_FORMAT",
    "DEBUG",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_vars / sizeof *all_vars; i++)
        unsetenv(all_vars[i]);
    return 0;
}

static void test_defaults_when_nothing_is_set(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 8000);
    assert_string_equal(c.public_url, "http://127.0.0.1:8000");
    assert_string_equal(c.allowed_origins, "*");
    assert_int_equal(c.request_timeout_s, 30);
    assert_int_equal(c.http_threads, cores);
    assert_null(c.admin_key);
    assert_false(c.admin_key_generated);
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.sqlite_path, "./data/periscope.db");
    assert_false(c.postgres_enabled);
    assert_string_equal(c.pg_host, "127.0.0.1");
    assert_int_equal(c.pg_port, 5432);
    assert_string_equal(c.pg_user, "pguser");
    assert_string_equal(c.pg_password, "");
    assert_string_equal(c.pg_database, "periscope");
    assert_int_equal(c.workers, cores);
    assert_int_equal(c.queue_capacity, 10000);
    assert_int_equal(c.batch_max, 1000);
    assert_int_equal(c.ack_mode, ACK_MODE_COMMIT);
    assert_int_equal(c.retention_days, 90);
    assert_int_equal(c.max_events_per_issue, 1000);
    assert_int_equal(c.stall_timeout_s, 10);
    assert_int_equal(c.shutdown_timeout_s, 30);
    assert_int_equal(c.max_body_bytes, 20 * 1024 * 1024);
    assert_int_equal(c.max_envelope_bytes, 100 * 1024 * 1024);
    assert_int_equal(c.max_event_bytes, 1024 * 1024);
    assert_int_equal(c.max_json_depth, 64);
    assert_int_equal(c.ingest_memory_bytes, 512 * 1024 * 1024);
    assert_false(c.secrets_key_set);
    assert_int_equal(c.lua_memory_bytes, 16 * 1024 * 1024);
    assert_int_equal(c.lua_instruction_limit, 1000000);
    assert_int_equal(c.lua_time_limit_ms, 1000);
    assert_int_equal(c.script_max_bytes, 256 * 1024);
    assert_int_equal(c.retention_interval_ms, 600000);
    assert_false(c.allow_private_destinations);
    assert_int_equal(c.destination_rate_per_minute, 20);
    assert_int_equal(c.notify_poll_ms, 2000);
    assert_int_equal(c.notify_retry_base_ms, 5000);
    assert_int_equal(c.notify_throttle_window_ms, 60000);
    assert_int_equal(c.notify_connect_timeout_ms, 5000);
    assert_int_equal(c.notify_timeout_ms, 15000);
    assert_int_equal(c.log_format, LOG_FORMAT_JSON);
    assert_false(c.debug);
}

static void test_values_from_the_environment_are_used(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    setenv("HOST", "0.0.0.0", 1);
    setenv("PORT", "9001", 1);
    setenv("PUBLIC_URL", "https://errors.example.com/periscope/", 1);
    setenv("DATA_DIR", "/var/lib/periscope", 1);
    setenv("POSTGRES_ENABLED", "yes", 1);
    setenv("ACK_MODE", "queue", 1);
    setenv("LOG_FORMAT", "text", 1);
    setenv("DEBUG", "1", 1);
    setenv("MAX_BODY_BYTES", "5M", 1);
    setenv("MAX_EVENT_BYTES", "2048", 1);
    setenv("LUA_MEMORY_LIMIT", "32MiB", 1);
    setenv("WORKERS", "3", 1);
    setenv("LUA_TIME_LIMIT_MS", "250", 1);
    setenv("STALL_TIMEOUT", "5", 1);
    setenv("SHUTDOWN_TIMEOUT", "12", 1);
    setenv("API_SECRET_KEY_ADMIN", "s3cret-token-s3cret-token-s3cret-token", 1);
    setenv("NOTIFY_POLL_MS", "100", 1);
    setenv("NOTIFY_RETRY_BASE_MS", "200", 1);
    setenv("NOTIFY_THROTTLE_WINDOW_MS", "1500", 1);
    setenv("NOTIFY_CONNECT_TIMEOUT_MS", "1000", 1);
    setenv("NOTIFY_TIMEOUT_MS", "3000", 1);
    setenv("RETENTION_INTERVAL_MS", "100", 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 9001);
    assert_string_equal(c.public_url, "https://errors.example.com/periscope");
    assert_string_equal(c.sqlite_path, "/var/lib/periscope/periscope.db");
    assert_true(c.postgres_enabled);
    assert_int_equal(c.ack_mode, ACK_MODE_QUEUE);
    assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
    assert_true(c.debug);
    assert_int_equal(c.max_body_bytes, 5 * 1024 * 1024);
    assert_int_equal(c.max_event_bytes, 2048);
    assert_int_equal(c.lua_memory_bytes, 32 * 1024 * 1024);
    assert_int_equal(c.workers, 3);
    assert_int_equal(c.lua_time_limit_ms, 250);
    assert_int_equal(c.stall_timeout_s, 5);
    assert_int_equal(c.shutdown_timeout_s, 12);
    assert_string_equal(c.admin_key, "s3cret-token-s3cret-token-s3cret-token");
    assert_int_equal(c.notify_poll_ms, 100);
    assert_int_equal(c.notify_retry_base_ms, 200);
    assert_int_equal(c.notify_throttle_window_ms, 1500);
    assert_int_equal(c.notify_connect_timeout_ms, 1000);
    assert_int_equal(c.notify_timeout_ms, 3000);
    assert_int_equal(c.retention_interval_ms, 100);
}

/* The test binary sits in the build tree, whose share/periscope links to
 * the sources: found beside the binary, as an installed one finds its own. */
static void test_files_are_found_beside_the_binary(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "", want[PATH_MAX + 32], exe[PATH_MAX];
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_non_null(c.share_dir);
    assert_non_null(realpath("/proc/self/exe", exe));
    *strrchr(exe, '/') = '\0';
    snprintf(want, sizeof want, "%s/share/periscope", exe);
    assert_string_equal(c.share_dir, want);
    snprintf(want, sizeof want, "%s/share/periscope/lua", exe);
    assert_string_equal(c.lua_dir, want);
    snprintf(want, sizeof want, "%s/share/periscope/migrations", exe);
    assert_string_equal(c.migrations_dir, want);
}

static void test_directories_from_the_environment_win(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    setenv("LUA_DIR", "/tmp", 1);
    setenv("MIGRATIONS_DIR", "/", 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.lua_dir, "/tmp");
    assert_string_equal(c.migrations_dir, "/");
    assert_null(c.share_dir); /* not looked for: both were given */
}

static void test_booleans_accept_true_false_one_zero_yes_no(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool value;
    } cases[] = {{"true", true},   {"TRUE", true}, {"1", true},   {"yes", true},
                 {"false", false}, {"0", false},   {"no", false}, {"No", false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct config c;
        char err[256] = "";
        setenv("POSTGRES_ENABLED", cases[i].text, 1);
        assert_int_equal(config_load(&c, err, sizeof err), 0);
        assert_int_equal(c.postgres_enabled, cases[i].value);
    }
}

static void test_default_public_url_follows_host_and_port(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    setenv("HOST", "::1", 1);
    setenv("PORT", "8123", 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.public_url, "http://[::1]:8123");
}

static void test_every_bad_value_is_rejected_naming_its_variable(void **state)
{
    (void)state;
    static const struct {
        const char *var, *value;
    } bad[] = {
        {"PORT", "abc"},
        {"PORT", "70000"},
        {"PORT", "0"},
        {"PORT", "80x"},
        {"PORT", "-1"},
        {"POSTGRES_ENABLED", "maybe"},
        {"POSTGRES_PORT", "99999"},
        {"ACK_MODE", "x"},
        {"WORKERS", "0"},
        {"WORKERS", "many"},
        {"HTTP_THREADS", "0"},
        {"REQUEST_TIMEOUT", "soon"},
        {"QUEUE_CAPACITY", "0"},
        {"BATCH_MAX", "1e3"},
        {"RETENTION_DAYS", "-5"},
        {"MAX_EVENTS_PER_ISSUE", "lots"},
        {"LOG_FORMAT", "xml"},
        {"DEBUG", "sometimes"},
        {"ALLOW_PRIVATE_DESTINATIONS", "2"},
        {"DESTINATION_RATE_PER_MINUTE", "0"},
        {"MAX_BODY_BYTES", "big"},
        {"MAX_BODY_BYTES", "10Q"},
        {"MAX_BODY_BYTES", "-1"},
        {"MAX_ENVELOPE_BYTES", "1.5M"},
        {"MAX_EVENT_BYTES", "12"},
        {"MAX_JSON_DEPTH", "0"},
        {"LUA_MEMORY_LIMIT", "1K"},
        {"LUA_INSTRUCTION_LIMIT", "ten"},
        {"LUA_TIME_LIMIT_MS", "5"},
        {"STALL_TIMEOUT", "0"},
        {"SHUTDOWN_TIMEOUT", "forever"},
        {"SCRIPT_MAX_BYTES", "x"},
        {"INGEST_MEMORY_LIMIT", "1M"},
        {"INGEST_MEMORY_LIMIT", "lots"},
        {"PUBLIC_URL", "ftp://example.com"},
        {"PUBLIC_URL", "errors.example.com"},
        {"PUBLIC_URL", "http://user@example.com"},
        {"PUBLIC_URL", "http://"},
        {"RETENTION_INTERVAL_MS", "0"},
        {"RETENTION_INTERVAL_MS", "soon"},
        {"NOTIFY_POLL_MS", "-5"},
        {"NOTIFY_RETRY_BASE_MS", "1.5"},
        {"NOTIFY_THROTTLE_WINDOW_MS", "0"},
        {"NOTIFY_CONNECT_TIMEOUT_MS", "99999999999"},
        {"NOTIFY_TIMEOUT_MS", "x"},
        {"LUA_DIR", "/nonexistent/lua"},
        {"MIGRATIONS_DIR", "/dev/null"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct config c;
        char err[256] = "";
        clear_env(NULL);
        setenv(bad[i].var, bad[i].value, 1);
        int rc = config_load(&c, err, sizeof err);
        if (rc != -EINVAL || !strstr(err, bad[i].var) || strchr(err, '\n'))
            fail_msg("%s=%s: rc=%d err=\"%s\"", bad[i].var, bad[i].value, rc, err);
    }
}

static void test_error_line_shortens_a_long_value(void **state)
{
    (void)state;
    char value[500], err[256] = "";
    struct config c;
    memset(value, 'z', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    setenv("PORT", value, 1);
    assert_int_equal(config_load(&c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "PORT"));
    assert_true(strlen(err) < 200);
}

static char temp_root[64]; /* the test's temporary directory, removed at the end */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int remove_temp_root(void **state)
{
    (void)state;
    if (temp_root[0]) nftw(temp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    temp_root[0] = '\0';
    return 0;
}

/* A fresh DATA_DIR below a temporary directory; path[] gets it. */
static void temp_data_dir(char *path, size_t len)
{
    snprintf(temp_root, sizeof temp_root, "/tmp/periscope-test-config-XXXXXX");
    assert_non_null(mkdtemp(temp_root));
    snprintf(path, len, "%s/nested/data", temp_root);
    setenv("DATA_DIR", path, 1);
}

static void read_file(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_admin_key_is_generated_0600_and_reused(void **state)
{
    (void)state;
    char dir[256], file[300], err[256] = "", first[128], contents[256];
    struct config c;
    temp_data_dir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/admin.key", dir);

    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_int_equal(config_resolve_admin_key(&c, err, sizeof err), 0);
    assert_true(c.admin_key_generated);
    assert_int_equal(strlen(c.admin_key), 64);
    assert_int_equal(strspn(c.admin_key, "0123456789abcdef"), 64);
    snprintf(first, sizeof first, "%s", c.admin_key);

    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    read_file(file, contents, sizeof contents);
    assert_int_equal(strncmp(contents, first, 64), 0);

    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_int_equal(config_resolve_admin_key(&c, err, sizeof err), 0);
    assert_false(c.admin_key_generated);
    assert_string_equal(c.admin_key, first);
}

static void test_admin_key_from_environment_writes_no_file(void **state)
{
    (void)state;
    char dir[256], file[300], err[256] = "";
    struct config c;
    struct stat st;
    temp_data_dir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/admin.key", dir);
    setenv("API_SECRET_KEY_ADMIN", "from-the-environment-0123456789abcdef", 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_int_equal(config_resolve_admin_key(&c, err, sizeof err), 0);
    assert_string_equal(c.admin_key, "from-the-environment-0123456789abcdef");
    assert_false(c.admin_key_generated);
    assert_int_equal(stat(dir, &st), 0); /* DATA_DIR was still created */
    assert_true(S_ISDIR(st.st_mode));
    assert_int_not_equal(stat(file, &st), 0);
}

/* A loaded config whose DATA_DIR (made) holds file name with text in it. */
static void data_dir_with_file(struct config *c, const char *name, const char *text)
{
    char dir[256], file[300], err[256] = "";
    temp_data_dir(dir, sizeof dir);
    assert_int_equal(config_load(c, err, sizeof err), 0);
    assert_int_equal(config_prepare_data_dir(c, err, sizeof err), 0);
    snprintf(file, sizeof file, "%s/%s", dir, name);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_empty_admin_key_file_is_an_error(void **state)
{
    (void)state;
    char err[256] = "";
    struct config c;
    data_dir_with_file(&c, "admin.key", "");
    assert_int_not_equal(config_resolve_admin_key(&c, err, sizeof err), 0);
    assert_non_null(strstr(err, "admin.key"));
}

static void test_data_dir_that_is_a_file_is_an_error(void **state)
{
    (void)state;
    char err[256] = "";
    struct config c;
    setenv("DATA_DIR", "/dev/null", 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_int_not_equal(config_resolve_admin_key(&c, err, sizeof err), 0);
    assert_non_null(strstr(err, "DATA_DIR"));
}

static void test_short_admin_key_is_refused_without_repeating_it(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    setenv("API_SECRET_KEY_ADMIN", "a", 1);
    assert_int_equal(config_load(&c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "API_SECRET_KEY_ADMIN"));
    assert_non_null(strstr(err, "32"));
    assert_null(strchr(err, '\n'));
    setenv("API_SECRET_KEY_ADMIN", "0123456789abcdef0123456789abcde", 1); /* 31 */
    assert_int_equal(config_load(&c, err, sizeof err), -EINVAL);
    assert_null(strstr(err, "0123456789abcdef"));                          /* the key never shows */
    setenv("API_SECRET_KEY_ADMIN", "0123456789abcdef0123456789abcdef", 1); /* 32 */
    assert_int_equal(config_load(&c, err, sizeof err), 0);
}

static void test_short_admin_key_file_is_refused(void **state)
{
    (void)state;
    char err[256] = "";
    struct config c;
    data_dir_with_file(&c, "admin.key", "short-key\n");
    assert_int_equal(config_resolve_admin_key(&c, err, sizeof err), -EINVAL);
    assert_null(strstr(err, "short-key"));
}

static void test_secrets_key_from_environment_or_file(void **state)
{
    (void)state;
    static const char HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    char err[256] = "";
    struct config c;
    setenv("SECRETS_KEY", "not-hex-and-secret", 1);
    assert_int_equal(config_load(&c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "SECRETS_KEY"));
    assert_null(strstr(err, "not-hex-and-secret"));
    setenv("SECRETS_KEY", HEX, 1);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_true(c.secrets_key_set);
    assert_int_equal(c.secrets_key[31], 0x1f);

    unsetenv("SECRETS_KEY");
    data_dir_with_file(&c, "other.key", "");
    assert_int_equal(config_resolve_secrets_key(&c, err, sizeof err), 0); /* optional */
    assert_false(c.secrets_key_set);
    remove_temp_root(NULL);
    char line[80];
    snprintf(line, sizeof line, "%s\n", HEX);
    data_dir_with_file(&c, "secret.key", line);
    assert_int_equal(config_resolve_secrets_key(&c, err, sizeof err), 0);
    assert_true(c.secrets_key_set);
    assert_int_equal(c.secrets_key[1], 0x01);
    remove_temp_root(NULL);
    data_dir_with_file(&c, "secret.key", "garbage\n");
    assert_int_equal(config_resolve_secrets_key(&c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "secret.key"));
}

static void test_data_dir_is_created_0700_whatever_the_umask(void **state)
{
    (void)state;
    char dir[256], err[256] = "";
    struct config c;
    temp_data_dir(dir, sizeof dir);
    mode_t old = umask(0);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    int rc = config_prepare_data_dir(&c, err, sizeof err);
    umask(old);
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_when_nothing_is_set, clear_env),
        cmocka_unit_test_setup(test_values_from_the_environment_are_used, clear_env),
        cmocka_unit_test_setup(test_files_are_found_beside_the_binary, clear_env),
        cmocka_unit_test_setup(test_directories_from_the_environment_win, clear_env),
        cmocka_unit_test_setup(test_booleans_accept_true_false_one_zero_yes_no, clear_env),
        cmocka_unit_test_setup(test_default_public_url_follows_host_and_port, clear_env),
        cmocka_unit_test_setup(test_every_bad_value_is_rejected_naming_its_variable, clear_env),
        cmocka_unit_test_setup(test_error_line_shortens_a_long_value, clear_env),
        cmocka_unit_test_setup_teardown(test_admin_key_is_generated_0600_and_reused, clear_env,
                                        remove_temp_root),
        cmocka_unit_test_setup_teardown(test_admin_key_from_environment_writes_no_file, clear_env,
                                        remove_temp_root),
        cmocka_unit_test_setup_teardown(test_empty_admin_key_file_is_an_error, clear_env,
                                        remove_temp_root),
        cmocka_unit_test_setup(test_data_dir_that_is_a_file_is_an_error, clear_env),
        cmocka_unit_test_setup(test_short_admin_key_is_refused_without_repeating_it, clear_env),
        cmocka_unit_test_setup_teardown(test_short_admin_key_file_is_refused, clear_env,
                                        remove_temp_root),
        cmocka_unit_test_setup_teardown(test_secrets_key_from_environment_or_file, clear_env,
                                        remove_temp_root),
        cmocka_unit_test_setup_teardown(test_data_dir_is_created_0700_whatever_the_umask, clear_env,
                                        remove_temp_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
