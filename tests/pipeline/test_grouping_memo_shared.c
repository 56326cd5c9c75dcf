/* The grouping memo shared by threads: several threads look up and insert
 * at once — keys that share a bucket, keys that differ only in project,
 * texts long enough to press on the text budget and more keys than slots,
 * and a script generation that changes mid-run — and every hit returns
 * exactly what was inserted for its key; the counts add up; the table
 * stays within its slots and text budget. And through the Lua runtimes:
 * the registry's memo lets one worker's result serve another. */
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>

#include "model/event.h"
#include "base/metrics.h"
#include "pipeline/pipeline.h"
#include "lua/grouping_memo.h"
#include "lua/registry.h"
#include "lua/runtime.h"

#define THREADS 4
#define LOOKUPS_PER_THREAD 40000
#define COLD_IDS 20000
#define HOT_IDS 64
#define SLOTS 4096

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Ids 4k..4k+3 share lo (one bucket); 2j and 2j+1 share lo and hi and
 * differ only in the project. */
static struct grouping_memo_key key_for(unsigned id, uint64_t generation)
{
    return (struct grouping_memo_key){.project_id = id % 2,
                                      .generation = generation,
                                      .lo = mix(id / 4),
                                      .hi = mix(id / 2 + 0x5555)};
}

/* What is inserted for (id, generation): lengths from 0 to ~1100 bytes
 * together, so some results are too long to be memoized. */
struct result {
    char hash[33];
    char title[800];
    char culprit[500];
};

static void result_for(unsigned id, uint64_t generation, struct result *r)
{
    snprintf(r->hash, sizeof r->hash, "%016llx%016llx",
             (unsigned long long)mix(id * 31 + generation),
             (unsigned long long)mix(id * 17 + generation + 1));
    int n = snprintf(r->title, sizeof r->title, "T%u g%llu ", id, (unsigned long long)generation);
    size_t len = (size_t)n + (id * 37u) % 700;
    memset(r->title + n, 'a' + (char)(id % 26), len - (size_t)n);
    r->title[len] = '\0';
    n = snprintf(r->culprit, sizeof r->culprit, "C%u g%llu ", id, (unsigned long long)generation);
    len = (size_t)n + (id * 53u) % 400;
    memset(r->culprit + n, 'A' + (char)(id % 26), len - (size_t)n);
    r->culprit[len] = '\0';
}

struct shared {
    struct grouping_memo *memo;
    atomic_uint_fast64_t generation;
};

struct worker {
    struct shared *sh;
    unsigned seed;
    bool bumps_generation;
    uint64_t hits, misses, wrong;
    char first_wrong[256];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct result want;
    uint64_t rnd = mix(w->seed);
    for (unsigned i = 0; i < LOOKUPS_PER_THREAD; i++) {
        if (w->bumps_generation && (i == LOOKUPS_PER_THREAD / 3 || i == 2 * LOOKUPS_PER_THREAD / 3))
            atomic_fetch_add(&w->sh->generation, 1);
        rnd = mix(rnd);
        unsigned id = rnd & 1 ? (unsigned)(rnd >> 8) % HOT_IDS : (unsigned)(rnd >> 8) % COLD_IDS;
        uint64_t generation = atomic_load(&w->sh->generation);
        struct grouping_memo_key key = key_for(id, generation);
        result_for(id, generation, &want);
        char hash[33], *title = NULL, *culprit = NULL;
        int rc = grouping_memo_get(w->sh->memo, &key, hash, &title, &culprit);
        if (rc == 1) {
            w->hits++;
            if ((strcmp(hash, want.hash) || strcmp(title, want.title) ||
                 strcmp(culprit, want.culprit)) &&
                w->wrong++ == 0)
                snprintf(w->first_wrong, sizeof w->first_wrong,
                         "id %u generation %llu: got %.40s / %.40s", id,
                         (unsigned long long)generation, title, culprit);
            free(title);
            free(culprit);
        } else {
            w->misses++;
            grouping_memo_put(w->sh->memo, &key, want.hash, want.title, want.culprit);
        }
    }
    grouping_memo_flush_counts();
    return NULL;
}

static double metric(const char *result)
{
    char *text = metrics_render();
    assert_non_null(text);
    char series[128];
    snprintf(series, sizeof series, "periscope_grouping_memo_total{result=\"%s\"} ", result);
    const char *at = strstr(text, series);
    double v = at ? strtod(at + strlen(series), NULL) : 0;
    free(text);
    return v;
}

static void test_threads_get_exactly_what_was_put_for_their_key(void **state)
{
    (void)state;
    struct shared sh;
    assert_int_equal(grouping_memo_new(SLOTS, &sh.memo), 0);
    atomic_init(&sh.generation, 1);
    double hits_before = metric("hit"), misses_before = metric("miss");
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.sh = &sh, .seed = (unsigned)i + 1, .bumps_generation = i == 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    uint64_t hits = 0, misses = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].wrong)
            fail_msg("thread %d: %llu wrong hits, first %s", i, (unsigned long long)w[i].wrong,
                     w[i].first_wrong);
        hits += w[i].hits;
        misses += w[i].misses;
    }
    print_message("%llu hits, %llu misses\n", (unsigned long long)hits, (unsigned long long)misses);
    assert_int_equal(hits + misses, (uint64_t)THREADS * LOOKUPS_PER_THREAD);
    assert_true(hits > (uint64_t)THREADS * LOOKUPS_PER_THREAD / 8);   /* the hot ids */
    assert_true(misses > (uint64_t)THREADS * LOOKUPS_PER_THREAD / 4); /* the cold ones */

    struct grouping_memo_stats st;
    grouping_memo_stats(sh.memo, &st);
    assert_int_equal(st.hits, hits);
    assert_int_equal(st.misses, misses);
    assert_int_equal(st.capacity, SLOTS);
    assert_true(st.entries > 0 && st.entries <= st.capacity);
    assert_true(st.text_bytes <= (size_t)SLOTS * GROUPING_MEMO_TEXT_BUDGET_PER_SLOT);
    /* every thread flushed its counts into the metric */
    assert_true(metric("hit") - hits_before == (double)hits);
    assert_true(metric("miss") - misses_before == (double)misses);

    /* after the churn a fresh key is remembered, an over-long one is not */
    struct result r;
    uint64_t generation = atomic_load(&sh.generation);
    unsigned fresh = COLD_IDS + 1; /* ~200 bytes of text */
    struct grouping_memo_key key = key_for(fresh, generation);
    result_for(fresh, generation, &r);
    grouping_memo_put(sh.memo, &key, r.hash, r.title, r.culprit);
    char hash[33], *title, *culprit;
    assert_int_equal(grouping_memo_get(sh.memo, &key, hash, &title, &culprit), 1);
    assert_string_equal(title, r.title);
    assert_string_equal(culprit, r.culprit);
    assert_string_equal(hash, r.hash);
    free(title);
    free(culprit);
    char long_title[GROUPING_MEMO_TEXT_MAX + 1];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    key = key_for(fresh + 1, generation);
    grouping_memo_put(sh.memo, &key, r.hash, long_title, "c");
    assert_int_equal(grouping_memo_get(sh.memo, &key, hash, &title, &culprit), 0);
    grouping_memo_free(sh.memo);
}

static cJSON *numbered_event(unsigned i)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"platform\":\"python\",\"exception\":{\"values\":[{\"type\":\"ValueError\","
             "\"value\":\"bad input %u\"}]}}",
             i);
    return cJSON_Parse(json);
}

#define EVENTS 300
#define RUNTIME_THREADS 2

struct runtime_worker {
    struct pipeline_deps *srv;
    const char (*hashes)[33]; /* the memo-less runtime's hash per event */
    unsigned offset;
    unsigned wrong;
    int failed;
};

/* A pipeline worker's life: its own runtime on the shared registry. */
static void *run_events(void *arg)
{
    struct runtime_worker *w = arg;
    struct runtime *rt;
    if ((w->failed = runtime_new(w->srv->scripts, w->srv->cfg, &rt)) != 0) return NULL;
    for (unsigned n = 0; n < 2 * EVENTS; n++) {
        unsigned i = (n + w->offset) % EVENTS;
        struct grouped_event ev = {.project_id = 3};
        cJSON *ev_json = numbered_event(i);
        char title[64];
        snprintf(title, sizeof title, "ValueError: bad input %u", i);
        if (runtime_process(rt, ev_json, &ev) != 0)
            w->failed = -EIO;
        else if (strcmp(ev.title, title) != 0 || strcmp(ev.hash, w->hashes[i]) != 0)
            w->wrong++;
        free(ev.title);
        free(ev.culprit);
        cJSON_Delete(ev_json);
    }
    runtime_free(rt);
    return NULL;
}

static void test_runtimes_of_one_registry_share_its_memo(void **state)
{
    (void)state;
    struct config cfg = {.lua_dir = PERISCOPE_SOURCE_DIR "/lua"};
    struct pipeline_deps srv = {.cfg = &cfg};
    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);

    static char hashes[EVENTS][33];
    struct runtime *plain;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &plain), 0);
    assert_int_equal(runtime_set_memo(plain, 0), 0);
    for (unsigned i = 0; i < EVENTS; i++) {
        struct grouped_event ev = {.project_id = 3};
        cJSON *ev_json = numbered_event(i);
        assert_int_equal(runtime_process(plain, ev_json, &ev), 0);
        memcpy(hashes[i], ev.hash, 33);
        free(ev.title);
        free(ev.culprit);
        cJSON_Delete(ev_json);
    }
    runtime_free(plain);

    /* what one runtime grouped, another finds */
    struct runtime *a, *b;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &a), 0);
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &b), 0);
    struct grouped_event ev = {.project_id = 3};
    cJSON *ev_json = numbered_event(EVENTS + 1);
    assert_int_equal(runtime_process(a, ev_json, &ev), 0);
    free(ev.title);
    free(ev.culprit);
    ev.title = ev.culprit = NULL;
    struct grouping_memo_stats st;
    assert_int_equal(runtime_memo_stats(b, &st), 0);
    assert_int_equal(st.hits, 0);
    assert_int_equal(runtime_process(b, ev_json, &ev), 0);
    assert_string_equal(ev.title, "ValueError: bad input 301");
    assert_int_equal(runtime_memo_stats(a, &st), 0);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(ev_json);
    runtime_free(a);
    runtime_free(b);

    /* two worker threads over the same events, each twice, from different
     * starting points: every result is the memo-less one */
    struct runtime_worker w[RUNTIME_THREADS];
    pthread_t th[RUNTIME_THREADS];
    for (int i = 0; i < RUNTIME_THREADS; i++) {
        w[i] = (struct runtime_worker){
            .srv = &srv, .hashes = (const char(*)[33])hashes, .offset = (unsigned)i * EVENTS / 2};
        assert_int_equal(pthread_create(&th[i], NULL, run_events, &w[i]), 0);
    }
    for (int i = 0; i < RUNTIME_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failed, 0);
        assert_int_equal(w[i].wrong, 0);
    }
    struct grouping_memo_stats after;
    grouping_memo_stats(script_registry_memo(srv.scripts), &after);
    /* each event grouped in Lua at most once per thread (a race can make
     * both miss it), and at least half the lookups answered by the memo */
    assert_true(after.misses - st.misses <= (uint64_t)RUNTIME_THREADS * EVENTS);
    assert_true(after.hits - st.hits >= (uint64_t)RUNTIME_THREADS * EVENTS);
    assert_int_equal(after.entries, EVENTS + 1);
    script_registry_close(srv.scripts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_get_exactly_what_was_put_for_their_key),
        cmocka_unit_test(test_runtimes_of_one_registry_share_its_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
