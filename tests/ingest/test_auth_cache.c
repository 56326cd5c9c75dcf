/* auth cache over the real store (SQLite): keys resolve to their project,
 * unknown, malformed and revoked keys do not, and a revocation or quota
 * change is seen once the cache entry expires, or at once after
 * auth_cache_clear (what a revocation does), even when a lookup raced it. */
#include <errno.h>
#include <time.h>
#include "support.h"
#include "ingest/auth.h"
#include "store/projects.h"

#define TTL_MS 150

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_key_resolves_to_its_project_and_quota(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t a, b, pid = 0;
    char key_a[PUBLIC_KEY_HEX + 1], key_b[PUBLIC_KEY_HEX + 1];
    int rl = -1;
    assert_int_equal(projects_create(db, "a", &a, key_a), 0);
    assert_int_equal(projects_create(db, "b", &b, key_b), 0);
    assert_int_equal(projects_update(db, b, NULL, 7), 0);
    struct auth_cache *c = auth_cache_new(auth_store_lookup, ts->store, TTL_MS);
    assert_int_equal(auth_cache_resolve(c, key_a, &pid, &rl), 0);
    assert_int_equal(pid, a);
    assert_int_equal(rl, 0);
    assert_int_equal(auth_cache_resolve(c, key_b, &pid, &rl), 0);
    assert_int_equal(pid, b);
    assert_int_equal(rl, 7);
    auth_cache_free(c);
}

static void test_unknown_and_malformed_keys_are_not_found(void **state)
{
    struct test_store *ts = *state;
    struct auth_cache *c = auth_cache_new(auth_store_lookup, ts->store, TTL_MS);
    int64_t pid;
    int rl;
    assert_int_equal(auth_cache_resolve(c, "ffffffffffffffffffffffffffffffff", &pid, &rl), -ENOENT);
    /* cached miss answers the same */
    assert_int_equal(auth_cache_resolve(c, "ffffffffffffffffffffffffffffffff", &pid, &rl), -ENOENT);
    assert_int_equal(auth_cache_resolve(c, "' OR '1'='1", &pid, &rl), -ENOENT);
    assert_int_equal(auth_cache_resolve(c, "", &pid, &rl), -ENOENT);
    auth_cache_free(c);
}

static void test_revoked_key_stops_working_after_the_ttl(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t id, pid;
    int rl;
    char key[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, "revoke", &id, key), 0);
    struct auth_cache *c = auth_cache_new(auth_store_lookup, ts->store, TTL_MS);
    assert_int_equal(auth_cache_resolve(c, key, &pid, &rl), 0);
    assert_int_equal(keys_revoke(db, id, key), 0);
    sleep_ms(TTL_MS + 50);
    assert_int_equal(auth_cache_resolve(c, key, &pid, &rl), -ENOENT);
    auth_cache_free(c);
}

static void test_new_key_is_found_after_a_cached_miss_expires(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t id, pid;
    int rl;
    char first[PUBLIC_KEY_HEX + 1], second[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, "rotate", &id, first), 0);
    assert_int_equal(keys_create(db, id, second), 0);
    struct auth_cache *c = auth_cache_new(auth_store_lookup, ts->store, TTL_MS);
    assert_int_equal(auth_cache_resolve(c, second, &pid, &rl), 0);
    assert_int_equal(pid, id);
    /* upper-case hex is the same key */
    char upper[PUBLIC_KEY_HEX + 1];
    for (int i = 0; i <= PUBLIC_KEY_HEX; i++)
        upper[i] = (char)(first[i] >= 'a' && first[i] <= 'f' ? first[i] - 32 : first[i]);
    assert_int_equal(auth_cache_resolve(c, upper, &pid, &rl), 0);
    assert_int_equal(pid, id);
    auth_cache_free(c);
}

static void test_clear_makes_a_revocation_count_at_once(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    int64_t id, pid;
    int rl;
    char key[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, "revoke-now", &id, key), 0);
    struct auth_cache *c = auth_cache_new(auth_store_lookup, ts->store, 60000);
    assert_int_equal(auth_cache_resolve(c, key, &pid, &rl), 0);
    assert_int_equal(keys_revoke(db, id, key), 0);
    assert_int_equal(auth_cache_resolve(c, key, &pid, &rl), 0); /* still cached */
    auth_cache_clear(c);
    assert_int_equal(auth_cache_resolve(c, key, &pid, &rl), -ENOENT);
    auth_cache_free(c);
}

/* A lookup that read "active" before the revocation, and finishes after
 * the clear, must not put its stale answer in the cache. */
struct racing_lookup {
    struct auth_cache *cache;
    int calls;
};

static int lookup_then_revoked(void *ctx, const char *key, int64_t *project_id, int *rate_limit)
{
    (void)key;
    struct racing_lookup *r = ctx;
    r->calls++;
    if (r->calls > 1) return -ENOENT; /* the database after the revocation */
    auth_cache_clear(r->cache);       /* the revocation lands mid-lookup */
    *project_id = 9;
    *rate_limit = 0;
    return 0;
}

static void test_lookup_racing_a_clear_is_not_cached(void **state)
{
    (void)state;
    struct racing_lookup r = {0};
    r.cache = auth_cache_new(lookup_then_revoked, &r, 60000);
    const char *key = "0123456789abcdef0123456789abcdef";
    int64_t pid;
    int rl;
    assert_int_equal(auth_cache_resolve(r.cache, key, &pid, &rl), 0); /* answered, not kept */
    assert_int_equal(auth_cache_resolve(r.cache, key, &pid, &rl), -ENOENT);
    assert_int_equal(r.calls, 2);
    auth_cache_free(r.cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_resolves_to_its_project_and_quota,
                                        test_store_setup_sqlite, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_malformed_keys_are_not_found,
                                        test_store_setup_sqlite, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_revoked_key_stops_working_after_the_ttl,
                                        test_store_setup_sqlite, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_new_key_is_found_after_a_cached_miss_expires,
                                        test_store_setup_sqlite, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_clear_makes_a_revocation_count_at_once,
                                        test_store_setup_sqlite, test_store_teardown),
        cmocka_unit_test(test_lookup_racing_a_clear_is_not_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
