/* membudget: takes within the limit, refuses past it without taking
 * anything, and holds the limit under contention from many threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "base/membudget.h"

static void test_takes_until_the_limit_and_gives_back(void **state)
{
    (void)state;
    struct membudget b;
    membudget_init(&b, 100);
    assert_int_equal(membudget_take(&b, 60), 0);
    assert_int_equal(membudget_take(&b, 41), -EAGAIN);
    assert_int_equal(membudget_used(&b), 60); /* a refusal takes nothing */
    assert_int_equal(membudget_take(&b, 40), 0);
    assert_int_equal(membudget_take(&b, 1), -EAGAIN);
    membudget_give(&b, 60);
    assert_int_equal(membudget_take(&b, 60), 0);
    membudget_give(&b, 100);
    assert_int_equal(membudget_used(&b), 0);
    assert_int_equal(membudget_take(&b, 101), -EAGAIN);
    assert_int_equal(membudget_take(&b, SIZE_MAX), -EAGAIN); /* no wrap-around */
}

#define THREADS 4
#define ROUNDS 20000
#define CHUNK 7

struct contender {
    struct membudget *b;
    size_t peak_seen;
};

static void *contend(void *arg)
{
    struct contender *c = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (membudget_take(c->b, CHUNK) != 0) continue;
        size_t used = membudget_used(c->b);
        if (used > c->peak_seen) c->peak_seen = used;
        membudget_give(c->b, CHUNK);
    }
    return NULL;
}

static void test_the_limit_holds_under_contention(void **state)
{
    (void)state;
    struct membudget b;
    membudget_init(&b, 2 * CHUNK); /* room for two of four at once */
    pthread_t th[THREADS];
    struct contender c[THREADS] = {{0}};
    for (int i = 0; i < THREADS; i++) {
        c[i].b = &b;
        assert_int_equal(pthread_create(&th[i], NULL, contend, &c[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_true(c[i].peak_seen <= 2 * CHUNK);
    }
    assert_int_equal(membudget_used(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takes_until_the_limit_and_gives_back),
        cmocka_unit_test(test_the_limit_holds_under_contention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
