/* event_stored: the event the API serves is the normalized event, byte for
 * byte, although the writer stores the bytes as received. Each input shape
 * goes through the real ingest parser, worker and writer into SQLite; the
 * answer must equal what printing the worker's normalized tree gives (what
 * was stored before raw bytes were). */
#include "writer_support.h"

#include "scripts/dryrun.h"
#include "scripts/event_stored.h"
#include "http/ingest_internal.h"
#include "model/normalize.h"
#include "store/events_read.h"
#include "pipeline/writer.h"

static int setup(void **state)
{
    struct wfix *f;
    if (wfix_open(&f, false, 64, 64) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    wfix_close(*state);
    return 0;
}

/* The normalized tree of ev's event printed: the old stored form. */
static char *normalized_print(const struct raw_event *ev)
{
    struct grouped_event copy = {.received_at_ms = ev->received_at_ms};
    memcpy(copy.event_id, ev->event_id, 16);
    cJSON *json = cJSON_Duplicate(ev->json, 1);
    assert_int_equal(normalize_event(json, &copy), 0);
    char *s = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    free(copy.environment);
    free(copy.release);
    return s;
}

/* The receive time every test event gets. */
#define RECEIVED_AT_MS 1700000000123

/* Frames and parses body as ingest does (no memory budget) into batch. */
static void parse_body(struct wfix *f, enum ingest_route route, const char *body,
                       struct ingest_batch *batch)
{
    struct ingest_items items;
    struct ingest_refusal why;
    size_t held = 0;
    assert_int_equal(ingest_body_frame(&f->tb.cfg, route, body, strlen(body), NULL, &items, &why),
                     0);
    assert_int_equal(
        ingest_body_events(&f->tb.cfg, &items, f->project_id, RECEIVED_AT_MS, &held, batch, &why),
        0);
    ingest_items_free(&items);
}

/* Ingests body on route through worker and writer; checks every read path
 * against the normalized form; returns the event id into id. */
static void ingest_and_compare(struct wfix *f, enum ingest_route route, const char *body,
                               uint8_t id[16])
{
    struct ingest_batch batch = {0};
    parse_body(f, route, body, &batch);
    assert_int_equal(batch.n, 1);
    struct raw_event *raw = batch.events[0];
    assert_non_null(raw->raw);
    char *expected = normalized_print(raw);
    memcpy(id, raw->event_id, 16);
    struct writer *w;
    assert_int_equal(writer_new(&f->srv, &w), 0);
    struct grouped_event *ev = wfix_group(f->worker, raw);
    assert_non_null(ev);
    assert_int_equal(writer_commit_batch(w, &ev, 1), 0); /* frees the event */
    free(batch.events);
    writer_free(w);

    struct db *db = store_acquire(f->srv.store);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(event_stored_json(db, f->project_id, id, &got, &len), 0);
    assert_string_equal(got, expected);
    assert_int_equal(len, strlen(expected));
    cJSON *tree = NULL;
    assert_int_equal(dryrun_load_event(db, f->project_id, id, &tree), 0);
    char *printed = cJSON_PrintUnformatted(tree);
    assert_string_equal(printed, expected);
    store_release(f->srv.store, db);
    /* Stored already normalized (rows written before raw bytes were): the
     * same members and values (normalizing may move message/logentry). */
    cJSON *again = NULL;
    assert_int_equal(event_stored_normalize(expected, strlen(expected), id, RECEIVED_AT_MS, &again),
                     0);
    cJSON *want = cJSON_Parse(expected);
    assert_true(cJSON_Compare(again, want, 1));
    cJSON_Delete(want);
    cJSON_Delete(again);
    free(printed);
    cJSON_Delete(tree);
    free(got);
    free(expected);
}

static void test_legacy_exception_list_reads_normalized(void **state)
{
    uint8_t id[16];
    ingest_and_compare(
        *state, INGEST_ROUTE_STORE,
        "{\"event_id\":\"aa000000000000000000000000000001\",\"platform\":\"go\","
        "\"exception\":[{\"type\":\"E\",\"value\":\"boom 42\",\"stacktrace\":"
        "{\"frames\":[{\"function\":\"main\",\"filename\":\"m.go\",\"lineno\":3}]}}],"
        "\"level\":\"warn\",\"timestamp\":\"2024-05-01T10:00:00+02:00\"}",
        id);
    assert_int_equal(id[0], 0xaa);
}

static void test_bare_exception_object_reads_normalized(void **state)
{
    uint8_t id[16];
    ingest_and_compare(*state, INGEST_ROUTE_STORE,
                       "{\"event_id\":\"aa000000000000000000000000000002\",\"exception\":"
                       "{\"type\":\"ValueError\",\"value\":\"bad \\u00e9\"},\"extra\":{\"n\":1.5,"
                       "\"big\":12345678901234567890,\"list\":[null,true,false,\"x\"]}}",
                       id);
}

static void test_message_object_reads_normalized(void **state)
{
    uint8_t id[16];
    ingest_and_compare(*state, INGEST_ROUTE_STORE,
                       "  {\"event_id\":\"aa000000000000000000000000000003\",\"message\":"
                       "{\"message\":\"user %s failed %d times\",\"params\":[\"bob\",3]},"
                       "\"environment\":\"prod\",\"release\":7,\"level\":\"critical\"}\n",
                       id);
}

static void test_float_timestamp_reads_normalized(void **state)
{
    uint8_t id[16];
    ingest_and_compare(*state, INGEST_ROUTE_STORE,
                       "{\"event_id\":\"aa000000000000000000000000000004\",\"message\":\"hi\","
                       "\"timestamp\":1714550400.1239,\"platform\":\"\"}",
                       id);
}

static void test_missing_event_id_reads_with_the_generated_id(void **state)
{
    uint8_t id[16];
    ingest_and_compare(*state, INGEST_ROUTE_STORE,
                       "{\"message\":\"no id here\",\"logentry\":{\"formatted\":\"no id here\"}}",
                       id);
    char hex[33];
    event_id_hex(id, hex);
    struct wfix *f = *state;
    struct db *db = store_acquire(f->srv.store);
    cJSON *tree = NULL;
    assert_int_equal(event_stored_load(db, f->project_id, id, &tree), 0);
    store_release(f->srv.store, db);
    assert_string_equal(cJSON_GetObjectItem(tree, "event_id")->valuestring, hex);
    cJSON_Delete(tree);
}

static void test_envelope_header_id_wins_over_the_event_own(void **state)
{
    uint8_t id[16];
    ingest_and_compare(*state, INGEST_ROUTE_ENVELOPE,
                       "{\"event_id\":\"bb000000000000000000000000000005\"}\n"
                       "{\"type\":\"event\"}\n"
                       "{\"event_id\":\"cc000000000000000000000000000005\",\"message\":\"env\"}\n",
                       id);
    assert_int_equal(id[0], 0xbb);
}

static void test_stored_bytes_are_the_bytes_received(void **state)
{
    struct wfix *f = *state;
    const char *body =
        "{ \"message\" : \"spacing kept\",\"event_id\":\"dd000000000000000000000000000006\" }";
    uint8_t id[16];
    ingest_and_compare(f, INGEST_ROUTE_STORE, body, id);
    struct db *db = store_acquire(f->srv.store);
    char *raw = NULL;
    size_t len = 0;
    assert_int_equal(events_get_payload(db, f->project_id, id, &raw, &len), 0);
    store_release(f->srv.store, db);
    assert_string_equal(raw, body);
    free(raw);
}

/* Scrubbing changed the event: the raw bytes (which hold the secrets) are
 * never stored; what is stored, served and titled is the scrubbed event. */
static void test_a_scrubbed_event_is_stored_scrubbed_never_raw(void **state)
{
    struct wfix *f = *state;
    const char *body =
        "{\"event_id\":\"ee000000000000000000000000000007\","
        "\"message\":\"charge of card 4111 1111 1111 1111 failed\","
        "\"request\":{\"headers\":{\"Authorization\":\"Bearer s3cr3t\",\"Accept\":\"*/*\"}},"
        "\"extra\":{\"db\":\"postgres://app:hunter2@db/x\",\"password\":\"hunter2\"}}";
    struct ingest_batch batch = {0};
    parse_body(f, INGEST_ROUTE_STORE, body, &batch);
    uint8_t id[16];
    memcpy(id, batch.events[0]->event_id, 16);
    struct writer *w;
    assert_int_equal(writer_new(&f->srv, &w), 0);
    struct grouped_event *ev = wfix_group(f->worker, batch.events[0]);
    assert_non_null(ev);
    assert_string_equal(ev->title, "charge of card [Filtered] failed");
    assert_int_equal(writer_commit_batch(w, &ev, 1), 0);
    free(batch.events);
    writer_free(w);

    struct db *db = store_acquire(f->srv.store);
    char *raw = NULL, *served = NULL;
    size_t len = 0;
    assert_int_equal(events_get_payload(db, f->project_id, id, &raw, &len), 0);
    assert_int_equal(event_stored_json(db, f->project_id, id, &served, &len), 0);
    store_release(f->srv.store, db);
    for (const char *secret = "hunter2\0s3cr3t\0"
                              "4111 1111\0";
         *secret; secret += strlen(secret) + 1) {
        assert_null(strstr(raw, secret));
        assert_null(strstr(served, secret));
    }
    cJSON *tree = cJSON_Parse(served);
    cJSON *extra = cJSON_GetObjectItem(tree, "extra");
    assert_string_equal(cJSON_GetObjectItem(extra, "password")->valuestring, "[Filtered]");
    assert_string_equal(cJSON_GetObjectItem(extra, "db")->valuestring,
                        "postgres://[Filtered]@db/x");
    cJSON *headers = cJSON_GetObjectItem(cJSON_GetObjectItem(tree, "request"), "headers");
    assert_string_equal(cJSON_GetObjectItem(headers, "Authorization")->valuestring, "[Filtered]");
    assert_string_equal(cJSON_GetObjectItem(headers, "Accept")->valuestring, "*/*");
    cJSON_Delete(tree);
    free(raw);
    free(served);
}

static void test_unknown_event_is_enoent(void **state)
{
    struct wfix *f = *state;
    uint8_t id[16] = {0xee};
    struct db *db = store_acquire(f->srv.store);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(event_stored_json(db, f->project_id, id, &json, &len), -ENOENT);
    store_release(f->srv.store, db);
}

static void test_payload_that_is_not_an_object_is_eio(void **state)
{
    (void)state;
    uint8_t id[16] = {0};
    cJSON *out = NULL;
    assert_int_equal(event_stored_normalize("[1,2]", 5, id, 0, &out), -EIO);
    assert_int_equal(event_stored_normalize("{\"a\":", 5, id, 0, &out), -EIO);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_exception_list_reads_normalized),
        cmocka_unit_test(test_bare_exception_object_reads_normalized),
        cmocka_unit_test(test_message_object_reads_normalized),
        cmocka_unit_test(test_float_timestamp_reads_normalized),
        cmocka_unit_test(test_missing_event_id_reads_with_the_generated_id),
        cmocka_unit_test(test_envelope_header_id_wins_over_the_event_own),
        cmocka_unit_test(test_stored_bytes_are_the_bytes_received),
        cmocka_unit_test(test_a_scrubbed_event_is_stored_scrubbed_never_raw),
        cmocka_unit_test(test_unknown_event_is_enoent),
        cmocka_unit_test(test_payload_that_is_not_an_object_is_eio),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
