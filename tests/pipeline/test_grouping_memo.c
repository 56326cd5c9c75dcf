/* The default grouping's memo: for varied events (the SDK fixtures and the
 * inputs of Sentry's own grouping snapshots, plus mutations) a memoized
 * runtime answers exactly what a runtime without the memo computes, event
 * by event; what grouping reads changes the key, what it never reads does
 * not; the table stays bounded; a new script generation invalidates. */
#include "support.h"

#include <dirent.h>

#include "model/event.h"
#include "base/metrics.h"
#include "pipeline/pipeline.h"
#include "lua/event_table.h"
#include "lua/grouping_memo.h"
#include "lua/registry.h"
#include "lua/runtime.h"
#include "store/projects.h"
#include "store/scripts.h"

#define MAX_EVENTS 128

struct pair {
    struct config cfg;
    struct pipeline_deps srv;
    struct runtime *plain; /* no memo */
    struct runtime *memo;
};

static void pair_open(struct pair *p)
{
    memset(p, 0, sizeof *p);
    p->cfg.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    p->srv.cfg = &p->cfg;
    assert_int_equal(runtime_new(p->srv.scripts, p->srv.cfg, &p->plain), 0);
    assert_int_equal(runtime_set_memo(p->plain, 0), 0);
    assert_int_equal(runtime_new(p->srv.scripts, p->srv.cfg, &p->memo), 0);
}

static void pair_close(struct pair *p)
{
    runtime_free(p->plain);
    runtime_free(p->memo);
}

static uint64_t hits(struct runtime *rt)
{
    struct grouping_memo_stats st = {0};
    runtime_memo_stats(rt, &st);
    return st.hits;
}

/* Runs json through both runtimes, asserts the same outcome; returns
 * whether the memo answered it. */
static bool check_same(struct pair *p, const cJSON *json, const char *what)
{
    struct grouped_event a = {.project_id = 7};
    cJSON *a_json = cJSON_Duplicate(json, 1);
    struct grouped_event b = {.project_id = 7};
    cJSON *b_json = cJSON_Duplicate(json, 1);
    uint64_t before = hits(p->memo);
    assert_int_equal(runtime_process(p->plain, a_json, &a), 0);
    assert_int_equal(runtime_process(p->memo, b_json, &b), 0);
    if (strcmp(a.hash, b.hash) != 0 || strcmp(a.title, b.title) != 0 ||
        strcmp(a.culprit, b.culprit) != 0)
        fail_msg("%s: memo %s/%s/%s, plain %s/%s/%s", what, b.hash, b.title, b.culprit, a.hash,
                 a.title, a.culprit);
    assert_int_equal(a.filtered, b.filtered);
    free(a.title);
    free(a.culprit);
    free(b.title);
    free(b.culprit);
    cJSON_Delete(a_json);
    cJSON_Delete(b_json);
    return hits(p->memo) > before;
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return cJSON_Parse(buf);
}

/* The events of spec/fixtures/NAME.json (the file is the event) and
 * spec/fixtures/sentry/NAME.json (its "event"). */
static bool already_loaded(cJSON *const *events, size_t n, const cJSON *ev)
{
    for (size_t i = 0; i < n; i++)
        if (cJSON_Compare(events[i], ev, true)) return true;
    return false;
}

static size_t load_fixtures(cJSON **out)
{
    static const char *const dirs[] = {PERISCOPE_SOURCE_DIR "/spec/fixtures",
                                       PERISCOPE_SOURCE_DIR "/spec/fixtures/sentry"};
    size_t n = 0;
    for (int d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *de;
        while ((de = readdir(dir)) && n < MAX_EVENTS) {
            size_t len = strlen(de->d_name);
            if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0) continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            cJSON *doc = read_json(path);
            assert_non_null(doc);
            if (d == 1) {
                cJSON *ev = cJSON_DetachItemFromObject(doc, "event");
                cJSON_Delete(doc);
                doc = ev;
                /* the project settings Sentry's inputs carry are not part
                 * of the event; inputs that differ only in them are one */
                cJSON_DeleteItemFromObject(doc, "_grouping");
                cJSON_DeleteItemFromObject(doc, "_fingerprinting_rules");
            }
            assert_true(cJSON_IsObject(doc));
            if (already_loaded(out, n, doc)) {
                cJSON_Delete(doc);
                continue;
            }
            out[n++] = doc;
        }
        closedir(dir);
    }
    return n;
}

static void set(cJSON *obj, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItem(obj, key))
        cJSON_ReplaceItemInObject(obj, key, value);
    else
        cJSON_AddItemToObject(obj, key, value);
}

static cJSON *values_of(cJSON *x)
{
    cJSON *v = cJSON_GetObjectItem(x, "values");
    return cJSON_IsArray(v) ? v : cJSON_IsArray(x) ? x : NULL;
}

/* The first frame grouping may look at, or NULL. */
static cJSON *first_frame(cJSON *ev)
{
    cJSON *lists[] = {values_of(cJSON_GetObjectItem(ev, "exception")),
                      values_of(cJSON_GetObjectItem(ev, "threads"))};
    for (int l = 0; l < 2; l++) {
        cJSON *it;
        cJSON_ArrayForEach(it, lists[l])
        {
            cJSON *fr = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "stacktrace"), "frames");
            if (cJSON_GetArraySize(fr) > 0 && cJSON_IsObject(cJSON_GetArrayItem(fr, 0)))
                return cJSON_GetArrayItem(fr, 0);
        }
    }
    cJSON *fr = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "stacktrace"), "frames");
    return cJSON_IsObject(cJSON_GetArrayItem(fr, 0)) ? cJSON_GetArrayItem(fr, 0) : NULL;
}

/* Mutations of fields the grouping never sees: each must be a hit. */
static bool mutate_unread(cJSON *ev, int which)
{
    cJSON *frame = first_frame(ev);
    switch (which) {
    case 0:
        set(ev, "event_id", cJSON_CreateString("ffffffffffffffffffffffffffffffff"));
        return true;
    case 1:
        set(ev, "timestamp", cJSON_CreateNumber(1234567890.5));
        return true;
    case 2:
        set(ev, "breadcrumbs", cJSON_Parse("{\"values\":[{\"message\":\"clicked\"}]}"));
        return true;
    case 3:
        set(ev, "user", cJSON_Parse("{\"id\":\"u-1\",\"email\":\"a@example.com\"}"));
        return true;
    case 4:
        set(ev, "contexts", cJSON_Parse("{\"os\":{\"name\":\"Plan 9\"}}"));
        return true;
    case 5:
        if (!frame) return false;
        set(frame, "vars", cJSON_Parse("{\"secret\":\"hunter2\",\"n\":3}"));
        set(frame, "pre_context", cJSON_Parse("[\"a = 1\"]"));
        set(frame, "post_context", cJSON_Parse("[\"b = 2\"]"));
        return true;
    case 6:
        set(ev, "environment", cJSON_CreateString("memo-env"));
        return true;
    case 7: {
        cJSON *req = cJSON_GetObjectItem(ev, "request");
        if (!cJSON_IsObject(req))
            return false; /* an empty request is still a table grouping sees */
        set(req, "headers", cJSON_Parse("{\"Cookie\":\"session=abc\"}"));
        set(req, "data", cJSON_Parse("{\"items\":[1,2]}"));
        set(req, "env", cJSON_Parse("{\"REMOTE_ADDR\":\"10.1.2.3\"}"));
        return true;
    }
    default:
        return false;
    }
}
#define UNREAD_MUTATIONS 8

/* Mutations of fields the grouping reads: each must be a miss (the new
 * values name the event, so two fixtures never mutate into one input). */
static bool mutate_read(cJSON *ev, int which, size_t index)
{
    char unique[64];
    snprintf(unique, sizeof unique, "memo %zu", index);
    cJSON *frame = first_frame(ev);
    cJSON *exc = cJSON_GetArrayItem(values_of(cJSON_GetObjectItem(ev, "exception")), 0);
    switch (which) {
    case 0:
        if (!frame) return false;
        set(frame, "function", cJSON_CreateString(unique));
        return true;
    case 1:
        if (!cJSON_IsObject(exc)) return false;
        set(exc, "value", cJSON_CreateString(unique));
        return true;
    case 2: {
        const char *was = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "platform"));
        set(ev, "platform",
            cJSON_CreateString(was && strcmp(was, "python") == 0 ? "javascript" : "python"));
        return true;
    }
    case 3: {
        cJSON *tags = cJSON_GetObjectItem(ev, "tags");
        if (cJSON_IsArray(tags))
            cJSON_AddItemToArray(tags,
                                 cJSON_CreateStringArray((const char *[]){"memo", unique}, 2));
        else if (cJSON_IsObject(tags))
            cJSON_AddStringToObject(tags, "memo", unique);
        else {
            set(ev, "tags", cJSON_CreateObject());
            cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "tags"), "memo", unique);
        }
        return true;
    }
    case 4:
        set(ev, "fingerprint",
            cJSON_CreateStringArray((const char *[]){"{{ default }}", unique}, 2));
        return true;
    case 5: {
        cJSON *le = cJSON_GetObjectItem(ev, "logentry");
        if (cJSON_IsObject(le))
            set(le, "params", cJSON_CreateStringArray((const char *[]){unique}, 1));
        else {
            set(ev, "logentry", cJSON_Parse("{\"message\":\"memo %s\"}"));
            set(cJSON_GetObjectItem(ev, "logentry"), "params",
                cJSON_CreateStringArray((const char *[]){unique}, 1));
        }
        return true;
    }
    case 6:
        set(ev, "fingerprint", cJSON_CreateStringArray((const char *[]){unique}, 1));
        return true;
    case 7: {
        cJSON *req = cJSON_GetObjectItem(ev, "request");
        if (!cJSON_IsObject(req)) {
            req = cJSON_CreateObject();
            set(ev, "request", req);
        }
        set(req, "url", cJSON_CreateString(unique));
        return true;
    }
    default:
        return false;
    }
}
#define READ_MUTATIONS 8

static void test_memo_agrees_with_lua_on_fixtures_and_mutations(void **state)
{
    (void)state;
    cJSON *events[MAX_EVENTS];
    size_t n = load_fixtures(events);
    assert_true(n >= 35);
    struct pair p;
    pair_open(&p);
    char what[128];
    size_t checked_hits = 0, checked_misses = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "event %zu", i);
        assert_false(check_same(&p, events[i], what));
        assert_true(check_same(&p, events[i], what)); /* repeated: a hit, same result */
        for (int m = 0; m < UNREAD_MUTATIONS; m++) {
            cJSON *ev = cJSON_Duplicate(events[i], 1);
            if (mutate_unread(ev, m)) {
                snprintf(what, sizeof what, "event %zu unread mutation %d", i, m);
                assert_true(check_same(&p, ev, what));
                checked_hits++;
            }
            cJSON_Delete(ev);
        }
        /* with a request: only its url is read, not headers, body, env */
        cJSON *with_url = cJSON_Duplicate(events[i], 1);
        char url[64];
        snprintf(url, sizeof url, "https://shop.example.com/memo/%zu", i);
        set(with_url, "request", cJSON_CreateObject());
        cJSON_AddStringToObject(cJSON_GetObjectItem(with_url, "request"), "url", url);
        snprintf(what, sizeof what, "event %zu with a request", i);
        assert_false(check_same(&p, with_url, what));
        assert_true(mutate_unread(with_url, 7));
        assert_true(check_same(&p, with_url, what));
        checked_hits++;
        cJSON_Delete(with_url);
        for (int m = 0; m < READ_MUTATIONS; m++) {
            cJSON *ev = cJSON_Duplicate(events[i], 1);
            if (mutate_read(ev, m, i)) {
                snprintf(what, sizeof what, "event %zu read mutation %d", i, m);
                if (check_same(&p, ev, what)) fail_msg("%s: a hit", what);
                assert_true(check_same(&p, ev, what));
                checked_misses++;
            }
            cJSON_Delete(ev);
        }
    }
    print_message("%zu events, %zu unread mutations hit, %zu read mutations missed\n", n,
                  checked_hits, checked_misses);
    assert_true(checked_hits >= n * 6);
    assert_true(checked_misses >= n * 6);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(events[i]);
    pair_close(&p);
}

static void key_of(const char *json, struct grouping_memo_key *key)
{
    cJSON *ev = cJSON_Parse(json);
    assert_non_null(ev);
    struct event_table_args args = {.event = ev,
                                    .max_depth = 64,
                                    .fields = event_table_grouping_fields,
                                    .skip_keys = event_table_grouping_skip,
                                    .narrow = event_table_grouping_narrow};
    grouping_memo_key(&args, 1, 0, key);
    cJSON_Delete(ev);
}

static bool same_key(const char *a, const char *b)
{
    struct grouping_memo_key ka, kb;
    key_of(a, &ka);
    key_of(b, &kb);
    return ka.lo == kb.lo && ka.hi == kb.hi;
}

static void test_digest_tells_types_and_boundaries_apart(void **state)
{
    (void)state;
    struct grouping_memo *m;
    assert_int_equal(grouping_memo_new(16, &m), 0);
    assert_false(same_key("{\"level\":\"1\"}", "{\"level\":1}"));
    assert_false(same_key("{\"level\":1}", "{\"level\":1.5}"));
    assert_false(same_key("{\"level\":true}", "{\"level\":\"true\"}"));
    assert_false(same_key("{\"level\":null}", "{\"level\":\"\"}"));
    assert_false(same_key("{\"tags\":{\"ab\":\"c\"}}", "{\"tags\":{\"a\":\"bc\"}}"));
    assert_false(same_key("{\"tags\":[\"a\",\"b\"]}", "{\"tags\":[\"ab\"]}"));
    assert_false(same_key("{\"tags\":[[]]}", "{\"tags\":[]}"));
    assert_false(same_key("{\"tags\":[{}]}", "{\"tags\":[[]]}"));
    assert_false(same_key("{\"tags\":{\"a\":{}}}", "{\"tags\":{\"a\":[]}}"));
    assert_false(same_key("{\"tags\":{\"a\":[\"b\"]}}", "{\"tags\":{\"a\":[], \"b\":[]}}"));
    assert_false(same_key("{\"platform\":\"python\"}", "{\"logger\":\"python\"}"));
    /* what the table leaves out is left out of the key too */
    assert_true(same_key("{\"level\":\"error\",\"event_id\":\"a\",\"user\":{\"id\":1}}",
                         "{\"event_id\":\"b\",\"level\":\"error\",\"extra\":[1,2]}"));
    assert_true(
        same_key("{\"stacktrace\":{\"frames\":[{\"function\":\"f\",\"vars\":{\"x\":1}}]}}",
                 "{\"stacktrace\":{\"frames\":[{\"function\":\"f\",\"pre_context\":[\"y\"]}]}}"));
    assert_true(same_key("{\"request\":{\"url\":\"/a\",\"headers\":{\"X\":\"1\"}}}",
                         "{\"request\":{\"data\":\"x\",\"url\":\"/a\"}}"));
    assert_false(same_key("{\"request\":{\"url\":\"/a\"}}", "{\"request\":{\"url\":\"/b\"}}"));
    assert_false(same_key("{\"request\":{\"url\":\"/a\"}}", "{\"request\":\"/a\"}"));
    assert_false(same_key("{\"stacktrace\":{\"frames\":[{\"function\":\"f\"}]}}",
                          "{\"stacktrace\":{\"frames\":[{\"function\":\"g\"}]}}"));
    /* the key differs per project and generation */
    struct grouping_memo_key k1, k2;
    cJSON *ev = cJSON_Parse("{\"level\":\"error\"}");
    struct event_table_args args = {.event = ev,
                                    .max_depth = 64,
                                    .fields = event_table_grouping_fields,
                                    .skip_keys = event_table_grouping_skip,
                                    .narrow = event_table_grouping_narrow};
    grouping_memo_key(&args, 1, 0, &k1);
    grouping_memo_put(m, &k1, "0123456789abcdef0123456789abcdef", "T", "C");
    grouping_memo_key(&args, 2, 0, &k2);
    char hash[33], *title, *culprit;
    assert_int_equal(grouping_memo_get(m, &k2, hash, &title, &culprit), 0);
    grouping_memo_key(&args, 1, 1, &k2);
    assert_int_equal(grouping_memo_get(m, &k2, hash, &title, &culprit), 0);
    assert_int_equal(grouping_memo_get(m, &k1, hash, &title, &culprit), 1);
    assert_string_equal(title, "T");
    assert_string_equal(culprit, "C");
    assert_string_equal(hash, "0123456789abcdef0123456789abcdef");
    free(title);
    free(culprit);
    cJSON_Delete(ev);
    grouping_memo_free(m);
}

static cJSON *numbered_event(int i)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"platform\":\"python\",\"exception\":{\"values\":[{\"type\":\"ValueError\","
             "\"value\":\"bad input %d\"}]}}",
             i);
    return cJSON_Parse(json);
}

static void test_memo_stays_bounded_over_100000_distinct_events(void **state)
{
    (void)state;
    struct config cfg = {.lua_dir = PERISCOPE_SOURCE_DIR "/lua"};
    struct pipeline_deps srv = {.cfg = &cfg};
    struct runtime *rt;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);
    assert_int_equal(runtime_set_memo(rt, 1024), 0);
    for (int i = 0; i < 100000; i++) {
        struct grouped_event ev = {.project_id = 1};
        cJSON *ev_json = numbered_event(i);
        assert_int_equal(runtime_process(rt, ev_json, &ev), 0);
        free(ev.title);
        free(ev.culprit);
        cJSON_Delete(ev_json);
    }
    struct grouping_memo_stats st;
    assert_int_equal(runtime_memo_stats(rt, &st), 0);
    assert_int_equal(st.capacity, 1024);
    assert_true(st.entries <= st.capacity);
    assert_int_equal(st.misses, 100000);
    /* the most recent input is still there */
    struct grouped_event ev = {.project_id = 1};
    cJSON *ev_json = numbered_event(99999);
    assert_int_equal(runtime_process(rt, ev_json, &ev), 0);
    assert_string_equal(ev.title, "ValueError: bad input 99999");
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(ev_json);
    assert_int_equal(runtime_memo_stats(rt, &st), 0);
    assert_int_equal(st.hits, 1);
    runtime_free(rt);
    char *text = metrics_render();
    assert_non_null(strstr(text, "periscope_grouping_memo_total{result=\"miss\"}"));
    assert_non_null(strstr(text, "periscope_grouping_memo_total{result=\"hit\"}"));
    free(text);
}

/* Processes the sample input in project pid; returns whether it was a hit. */
static bool process_hit(struct runtime *rt, int64_t pid)
{
    uint64_t before = hits(rt);
    struct grouped_event ev = {.project_id = pid};
    cJSON *ev_json = numbered_event(1);
    assert_int_equal(runtime_process(rt, ev_json, &ev), 0);
    assert_false(ev.filtered);
    free(ev.title);
    free(ev.culprit);
    cJSON_Delete(ev_json);
    return hits(rt) > before;
}

static void test_script_change_invalidates_and_scripts_are_not_memoized(void **state)
{
    struct test_store *ts = *state;
    ts->tb.cfg.lua_dir = PERISCOPE_SOURCE_DIR "/lua";
    struct pipeline_deps srv = {.cfg = &ts->tb.cfg, .store = ts->store};
    struct db *db = store_acquire(ts->store);
    int64_t a, b;
    char key[PUBLIC_KEY_HEX + 1];
    assert_int_equal(projects_create(db, "memo-a", &a, key), 0);
    assert_int_equal(projects_create(db, "memo-b", &b, key), 0);
    const char *source = "return { format = function(alert, dest) return nil end }";
    int64_t version = 0;
    assert_int_equal(scripts_create_version(db, a, source, strlen(source), &version), 0);
    store_release(ts->store, db);

    assert_int_equal(script_registry_open(srv.store, srv.cfg, &srv.scripts), 0);
    struct runtime *rt;
    assert_int_equal(runtime_new(srv.scripts, srv.cfg, &rt), 0);
    assert_false(process_hit(rt, a));
    assert_true(process_hit(rt, a));
    assert_false(process_hit(rt, b));
    assert_true(process_hit(rt, b));

    /* a's script (even one that leaves grouping alone) runs in Lua every time */
    char *msg = NULL;
    int line = -1;
    assert_int_equal(script_registry_activate(srv.scripts, a, version, &msg, &line), 0);
    assert_false(process_hit(rt, a));
    assert_false(process_hit(rt, a));
    /* the new generation invalidated b's entry too */
    assert_false(process_hit(rt, b));
    assert_true(process_hit(rt, b));
    /* back to the default rules: memoized again, from a fresh entry */
    assert_int_equal(script_registry_activate(srv.scripts, a, 0, &msg, &line), 0);
    assert_false(process_hit(rt, a));
    assert_true(process_hit(rt, a));

    runtime_free(rt);
    script_registry_close(srv.scripts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_agrees_with_lua_on_fixtures_and_mutations),
        cmocka_unit_test(test_digest_tells_types_and_boundaries_apart),
        cmocka_unit_test(test_memo_stays_bounded_over_100000_distinct_events),
        cmocka_unit_test_setup_teardown(test_script_change_invalidates_and_scripts_are_not_memoized,
                                        test_store_setup_sqlite, test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
