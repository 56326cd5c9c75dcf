/* topic: bounded MPMC queue — full is -EAGAIN at once, nothing is lost or
 * duplicated under many producers and consumers, close drains then ends. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/topic.h"

static void test_publish_on_full_topic_fails_at_once(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 3);
    assert_non_null(t);
    int a = 1, b = 2, c = 3, d = 4;
    assert_int_equal(topic_publish(t, &a), 0);
    assert_int_equal(topic_publish(t, &b), 0);
    assert_int_equal(topic_publish(t, &c), 0);
    assert_int_equal(topic_publish(t, &d), -EAGAIN);

    struct topic_stats s;
    topic_stats(t, &s);
    assert_int_equal(s.depth, 3);
    assert_int_equal(s.capacity, 3);
    assert_int_equal(s.high_water, 3);
    assert_int_equal(s.published, 3);
    assert_int_equal(s.rejected_full, 1);

    void *out[8];
    assert_int_equal(topic_take(t, out, 8, 0), 3);
    assert_ptr_equal(out[0], &a);
    assert_ptr_equal(out[1], &b);
    assert_ptr_equal(out[2], &c);
    topic_stats(t, &s);
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.taken, 3);
    assert_int_equal(s.high_water, 3);
    topic_free(t);
}

static void test_publish_many_is_all_or_nothing(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 4);
    int v[5];
    void *items[5] = {&v[0], &v[1], &v[2], &v[3], &v[4]};
    assert_int_equal(topic_publish_many(t, items, 3), 0);
    assert_int_equal(topic_publish_many(t, items + 3, 2), -EAGAIN);
    struct topic_stats s;
    topic_stats(t, &s);
    assert_int_equal(s.depth, 3);
    assert_int_equal(topic_publish_many(t, items + 3, 1), 0);
    void *out[4];
    assert_int_equal(topic_take(t, out, 2, 0), 2);
    /* The ring wraps around. */
    assert_int_equal(topic_publish_many(t, items, 2), 0);
    assert_int_equal(topic_take(t, out, 4, 0), 4);
    assert_ptr_equal(out[0], &v[2]);
    assert_ptr_equal(out[1], &v[3]);
    assert_ptr_equal(out[2], &v[0]);
    assert_ptr_equal(out[3], &v[1]);
    topic_free(t);
}

static void test_take_times_out_on_empty_topic(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 4);
    void *out[1];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(topic_take(t, out, 1, 50), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 45); /* the wait is honoured; how long past it is the scheduler's */
    assert_int_equal(topic_take(t, out, 1, 0), 0);
    topic_free(t);
}

static void test_close_drains_then_reports_shutdown(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 4);
    int a;
    assert_int_equal(topic_publish(t, &a), 0);
    topic_close(t);
    assert_int_equal(topic_publish(t, &a), -ESHUTDOWN);
    void *out[4];
    assert_int_equal(topic_take(t, out, 4, -1), 1);
    assert_int_equal(topic_take(t, out, 4, -1), -ESHUTDOWN);
    assert_int_equal(topic_take(t, out, 4, 0), -ESHUTDOWN);
    topic_free(t);
}

static void *wait_forever(void *arg)
{
    void *out[1];
    intptr_t rc = topic_take(arg, out, 1, -1);
    return (void *)rc;
}

static void test_close_wakes_blocked_takers(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 4);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, wait_forever, t), 0);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    topic_close(t);
    for (int i = 0; i < 3; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_int_equal((intptr_t)rc, -ESHUTDOWN);
    }
    topic_free(t);
}

/* Items whose bytes are the int they point to. */
static size_t int_bytes(const void *item)
{
    return (size_t) * (const int *)item;
}

static void test_byte_budget_refuses_past_it_and_take_gives_the_bytes_back(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 8);
    assert_int_equal(topic_limit_bytes(t, 100, int_bytes), 0);
    int big = 150, sixty = 60, fifty = 50, ten = 10;
    /* An empty topic takes one item larger than the budget... */
    assert_int_equal(topic_publish(t, &big), 0);
    /* ... and nothing more while it holds any bytes. */
    assert_int_equal(topic_publish(t, &ten), -EAGAIN);
    struct topic_stats s;
    topic_stats(t, &s);
    assert_int_equal(s.bytes, 150);
    assert_int_equal(s.rejected_full, 1);
    void *out[8];
    assert_int_equal(topic_take(t, out, 8, 0), 1);
    topic_stats(t, &s);
    assert_int_equal(s.bytes, 0);
    void *pair[2] = {&sixty, &fifty};                    /* 110 together: all or nothing */
    assert_int_equal(topic_publish_many(t, pair, 2), 0); /* empty: passes */
    assert_int_equal(topic_publish(t, &ten), -EAGAIN);
    assert_int_equal(topic_take(t, out, 1, 0), 1); /* 60 out, 50 left */
    assert_int_equal(topic_publish(t, &ten), 0);
    topic_stats(t, &s);
    assert_int_equal(s.bytes, 60);
    assert_int_equal(topic_publish(t, &fifty), -EAGAIN); /* 110 > 100 */
    /* publish_wait publishes what fits, in order, and not past the budget. */
    void *three[3] = {&ten, &ten, &fifty};
    assert_int_equal(topic_publish_wait(t, three, 3, 0), 2);
    topic_stats(t, &s);
    assert_int_equal(s.bytes, 80);
    assert_int_equal(topic_take(t, out, 8, 0), 4);
    topic_stats(t, &s);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.depth, 0);
    topic_free(t);
}

struct taker_later {
    struct topic *t;
    int taken;
};

static void *take_after_a_while(void *arg)
{
    struct taker_later *l = arg;
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    void *out[1];
    l->taken = topic_take(l->t, out, 1, -1);
    return NULL;
}

static long ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void test_publish_wait_blocks_until_a_take_makes_room(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 2);
    int v[4];
    void *items[4] = {&v[0], &v[1], &v[2], &v[3]};
    /* Room for two of four: those go at once. */
    assert_int_equal(topic_publish_wait(t, items, 4, 1000), 2);
    /* Full: with no taker the wait ends at its timeout with nothing. */
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(topic_publish_wait(t, items + 2, 2, 50), 0);
    assert_true(ms_since(&a) >= 45);
    /* A take wakes the blocked publisher, which publishes into the room. */
    struct taker_later l = {.t = t};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_after_a_while, &l), 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(topic_publish_wait(t, items + 2, 2, 10000), 1);
    assert_true(ms_since(&a) < 5000); /* woken by the take, not by the timeout */
    pthread_join(th, NULL);
    assert_int_equal(l.taken, 1);
    struct topic_stats s;
    topic_stats(t, &s);
    assert_int_equal(s.depth, 2);
    /* Closed: refused at once. */
    topic_close(t);
    assert_int_equal(topic_publish_wait(t, items + 3, 1, -1), -ESHUTDOWN);
    topic_free(t);
}

#define PRODUCERS 4
#define CONSUMERS 4
#define PER_PRODUCER 50000

struct mpmc {
    struct topic *t;
    int id;
    uint64_t sum, count, retries;
    int errors; /* checked on the main thread: cmocka asserts only there */
};

static void *produce(void *arg)
{
    struct mpmc *m = arg;
    for (uintptr_t i = 1; i <= PER_PRODUCER; i++) {
        uintptr_t v = ((uintptr_t)m->id << 32) | i;
        for (;;) {
            int rc = topic_publish(m->t, (void *)v);
            if (rc == 0) break;
            if (rc != -EAGAIN) m->errors++;
            m->retries++;
            sched_yield();
        }
        m->sum += v;
    }
    return NULL;
}

static void *consume(void *arg)
{
    struct mpmc *m = arg;
    void *out[64];
    for (;;) {
        int n = topic_take(m->t, out, 64, -1);
        if (n == -ESHUTDOWN) break;
        if (n <= 0) {
            m->errors++;
            continue;
        }
        for (int i = 0; i < n; i++)
            m->sum += (uintptr_t)out[i];
        m->count += (uint64_t)n;
    }
    return NULL;
}

static void test_many_producers_and_consumers_lose_and_duplicate_nothing(void **state)
{
    (void)state;
    struct topic *t = topic_new("t", 128);
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    struct mpmc p[PRODUCERS] = {0}, c[CONSUMERS] = {0};
    for (int i = 0; i < CONSUMERS; i++) {
        c[i].t = t;
        assert_int_equal(pthread_create(&ct[i], NULL, consume, &c[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].t = t;
        p[i].id = i + 1;
        assert_int_equal(pthread_create(&pt[i], NULL, produce, &p[i]), 0);
    }
    uint64_t want_sum = 0, got_sum = 0, got_count = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(pt[i], NULL);
        assert_int_equal(p[i].errors, 0);
        want_sum += p[i].sum;
    }
    topic_close(t);
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_join(ct[i], NULL);
        assert_int_equal(c[i].errors, 0);
        got_sum += c[i].sum;
        got_count += c[i].count;
    }
    assert_int_equal(got_count, (uint64_t)PRODUCERS * PER_PRODUCER);
    assert_int_equal(got_sum, want_sum);
    struct topic_stats s;
    topic_stats(t, &s);
    assert_int_equal(s.published, (uint64_t)PRODUCERS * PER_PRODUCER);
    assert_int_equal(s.taken, s.published);
    assert_int_equal(s.depth, 0);
    assert_true(s.high_water <= 128);
    topic_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_on_full_topic_fails_at_once),
        cmocka_unit_test(test_publish_many_is_all_or_nothing),
        cmocka_unit_test(test_take_times_out_on_empty_topic),
        cmocka_unit_test(test_close_drains_then_reports_shutdown),
        cmocka_unit_test(test_close_wakes_blocked_takers),
        cmocka_unit_test(test_byte_budget_refuses_past_it_and_take_gives_the_bytes_back),
        cmocka_unit_test(test_publish_wait_blocks_until_a_take_makes_room),
        cmocka_unit_test(test_many_producers_and_consumers_lose_and_duplicate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
