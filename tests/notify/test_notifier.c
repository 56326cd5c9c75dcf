/* The notifier end to end against real local receivers: a Python webhook
 * receiver (tests/e2e/notify_receiver.py, which verifies the Standard
 * Webhooks signature itself) and aiosmtpd for email. Covers payloads and
 * signatures, retries with backoff and Retry-After, timeouts, a restart in
 * the middle of a retry (nothing lost, nothing sent twice), the SSRF guard
 * on "localhost", the throttle's digest, and deliveries whose data is not
 * valid UTF-8 or cannot be built at all. SQLite store; the outbox rows are
 * written as the pipeline's writer would. */
#include "notify_fixtures.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>

#include "base/secretbox.h"
#include "notify/notifier.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define WAIT_MS 15000

static const char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

struct receiver {
    pid_t pid;
    int port;
    char log[PATH_MAX + 32];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void receiver_start(struct test_store *ts, struct receiver *r, const char *script)
{
    static int serial;
    char port_file[PATH_MAX + 32];
    serial++;
    snprintf(port_file, sizeof port_file, "%s/port%d", ts->tb.dir, serial);
    snprintf(r->log, sizeof r->log, "%s/log%d", ts->tb.dir, serial);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        execlp(python(), python(), PERISCOPE_SOURCE_DIR "/tests/e2e/notify_receiver.py",
               "--port-file", port_file, "--log", r->log, "--secret", SECRET, "--script", script,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            assert_int_equal(fscanf(f, "%d", &r->port), 1);
            fclose(f);
            return;
        }
        sleep_ms(25);
    }
    fail_msg("receiver did not start");
}

static void child_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* The receiver's log: one parsed JSON object per request. Caller frees. */
static cJSON *received(const struct receiver *r)
{
    cJSON *list = cJSON_CreateArray();
    FILE *f = fopen(r->log, "r");
    char line[65536];
    while (f && fgets(line, sizeof line, f))
        json_push(list, json_parse_text(line));
    if (f) fclose(f);
    return list;
}

static const char *header(cJSON *req, const char *name)
{
    return json_str(json_get(json_get(req, "headers"), name));
}

/* The notifier's timings for the next server_for (setup resets them). */
static struct config timings;

static struct notifier_deps *server_for(struct test_store *ts, bool allow_private, int rate)
{
    static struct config cfg;
    static struct notifier_deps srv;
    cfg = ts->tb.cfg;
    cfg.notify_poll_ms = timings.notify_poll_ms;
    cfg.notify_retry_base_ms = timings.notify_retry_base_ms;
    cfg.notify_timeout_ms = timings.notify_timeout_ms;
    cfg.notify_throttle_window_ms = timings.notify_throttle_window_ms;
    cfg.allow_private_destinations = allow_private;
    cfg.destination_rate_per_minute = rate;
    cfg.public_url = "https://periscope.example";
    memset(&srv, 0, sizeof srv);
    srv.cfg = &cfg;
    srv.store = ts->store;
    return &srv;
}

/* Waits until `sql` ($1 = arg) answers want, or fails the test. */
static void wait_for(struct db *db, const char *sql, int64_t arg, int64_t want)
{
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (fx_scalar(db, sql, arg) == want) return;
        sleep_ms(50);
    }
    fail_msg("timed out waiting for %s (arg %lld) == %lld, got %lld", sql, (long long)arg,
             (long long)want, (long long)fx_scalar(db, sql, arg));
}

/* Runs a notifier on srv until `sql` ($1 = arg) answers want, then stops it. */
static void notify_until(struct notifier_deps *srv, struct db *db, const char *sql, int64_t arg,
                         int64_t want)
{
    struct notifier *nf = NULL;
    assert_int_equal(notifier_start(srv, &nf), 0);
    wait_for(db, sql, arg, want);
    notifier_stop(nf);
}

#define SENT_OF_ALERT "SELECT COUNT(*) FROM deliveries WHERE alert_id = $1 AND status = 'sent'"
#define DONE_OF_DEST                                                                               \
    "SELECT COUNT(*) FROM deliveries WHERE destination_id = $1 AND status IN ('sent', 'failed')"
#define ATTEMPTS_OF_DEST                                                                           \
    "SELECT COUNT(*) FROM delivery_attempts x JOIN deliveries d ON d.id = x.delivery_id WHERE "    \
    "d.destination_id = $1"

static int setup(void **state)
{
    timings.notify_poll_ms = 100;
    timings.notify_retry_base_ms = 200;
    timings.notify_timeout_ms = 3000;
    {
        struct config d;
        config_defaults(&d);
        timings.notify_throttle_window_ms = d.notify_throttle_window_ms;
    }
    return test_store_setup_sqlite(state);
}

static void test_webhook_slack_and_email_arrive_signed_and_formatted(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver hook, slack;
    receiver_start(ts, &hook, "204");
    receiver_start(ts, &slack, "200");
    /* A real SMTP server: aiosmtpd prints each message it receives. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &alen);
    int smtp_port = ntohs(a.sin_port);
    close(s);
    char listen_on[64], mail_log[PATH_MAX + 16];
    snprintf(listen_on, sizeof listen_on, "127.0.0.1:%d", smtp_port);
    snprintf(mail_log, sizeof mail_log, "%s/mail.txt", ts->tb.dir);
    pid_t smtp = fork();
    if (smtp == 0) {
        freopen(mail_log, "w", stdout);
        execl("/usr/bin/python3", "python3", "-u", "-m", "aiosmtpd", "-n", "-c",
              "aiosmtpd.handlers.Debugging", "-l", listen_on, (char *)NULL);
        _exit(127);
    }
    sleep_ms(600);

    int64_t p = test_project(db, "shop");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"webhook_url\":\"http://127.0.0.1:%d/hook\",\"secret\":\"" SECRET "\","
             "\"webhook_headers\":{\"X-Team\":\"payments\"}}",
             hook.port);
    int64_t d_hook = fx_destination(db, p, "generic_webhook", cfg);
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/services/T0/B0/x\"}",
             slack.port);
    fx_destination(db, p, "slack_webhook", cfg);
    snprintf(cfg, sizeof cfg,
             "{\"smtp_url\":\"smtp://127.0.0.1:%d\",\"from\":\"periscope@example.com\","
             "\"to\":[\"oncall@example.com\"]}",
             smtp_port);
    fx_destination(db, p, "email", cfg);
    int64_t alert = fx_alert(db, p, "ZeroDivisionError: division by zero");

    notify_until(server_for(ts, true, 20), db, SENT_OF_ALERT, alert, 3);

    cJSON *reqs = received(&hook);
    assert_int_equal(json_size(reqs), 1);
    cJSON *req = json_at(reqs, 0);
    assert_true(cJSON_IsTrue(json_get(req, "sig_ok"))); /* verified in Python */
    char id[32];
    snprintf(
        id, sizeof id, "dlv_%lld",
        (long long)fx_scalar(db, "SELECT id FROM deliveries WHERE destination_id = $1", d_hook));
    assert_string_equal(header(req, "webhook-id"), id);
    assert_string_equal(header(req, "x-team"), "payments");
    assert_string_equal(header(req, "content-type"), "application/json");
    assert_true(strncmp(header(req, "user-agent"), "periscope/", 10) == 0);
    cJSON *body = json_parse_text(json_str(json_get(req, "body")));
    assert_string_equal(json_str(json_get(body, "event")), "alert");
    assert_string_equal(json_str(json_get(body, "version")), "1.0");
    assert_string_equal(json_str(json_get(body, "id")), id);
    cJSON *data = json_get(body, "data");
    assert_int_equal(json_i64(json_get(json_get(data, "alert"), "id")), alert);
    cJSON *issue = json_get(data, "issue");
    assert_string_equal(json_str(json_get(issue, "title")), "ZeroDivisionError: division by zero");
    char link[128];
    snprintf(link, sizeof link, "https://periscope.example/projects/%lld/issues/%lld", (long long)p,
             (long long)json_i64(json_get(issue, "id")));
    assert_string_equal(json_str(json_get(issue, "link")), link);
    assert_string_equal(json_str(json_get(json_get(data, "project"), "name")), "shop");
    assert_string_equal(json_str(json_get(json_get(data, "event"), "environment")), "production");
    cJSON_Delete(body);
    cJSON_Delete(reqs);

    reqs = received(&slack);
    assert_int_equal(json_size(reqs), 1);
    req = json_at(reqs, 0);
    assert_null(json_get(json_get(req, "headers"), "webhook-signature"));
    body = json_parse_text(json_str(json_get(req, "body")));
    assert_string_equal(json_str(json_get(body, "text")), "ZeroDivisionError: division by zero");
    cJSON *blocks = json_get(body, "blocks");
    assert_string_equal(json_str(json_get(json_at(blocks, 0), "type")), "header");
    cJSON_Delete(body);
    cJSON_Delete(reqs);

    child_stop(smtp);
    FILE *f = fopen(mail_log, "r");
    assert_non_null(f);
    static char mail[65536];
    size_t n = fread(mail, 1, sizeof mail - 1, f);
    mail[n] = '\0';
    fclose(f);
    assert_non_null(strstr(mail, "Subject: [shop] ZeroDivisionError: division by zero"));
    assert_non_null(strstr(mail, "multipart/alternative"));
    assert_non_null(strstr(mail, "text/plain"));
    assert_non_null(strstr(mail, "text/html"));
    assert_non_null(strstr(mail, "oncall@example.com"));
    /* The text part's lines end in CRLF: no bare LF quoted as "=0A". */
    assert_null(strstr(mail, "=0A"));
    child_stop(hook.pid);
    child_stop(slack.pid);
}

static void test_failures_are_retried_with_backoff_honouring_retry_after(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "500,429:1,204");
    int64_t p = test_project(db, "shop");
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}", r.port);
    int64_t d = fx_destination(db, p, "generic_webhook", cfg);
    fx_alert(db, p, "Boom");
    notify_until(server_for(ts, true, 20), db, DONE_OF_DEST, d, 1);

    assert_int_equal(
        fx_scalar(
            db, "SELECT COUNT(*) FROM deliveries WHERE destination_id = $1 AND status = 'sent'", d),
        1);
    assert_int_equal(fx_scalar(db, "SELECT attempts FROM deliveries WHERE destination_id = $1", d),
                     3);
    cJSON *reqs = received(&r);
    assert_int_equal(json_size(reqs), 3);
    double t0 = cJSON_GetNumberValue(json_get(json_at(reqs, 0), "t"));
    double t1 = cJSON_GetNumberValue(json_get(json_at(reqs, 1), "t"));
    double t2 = cJSON_GetNumberValue(json_get(json_at(reqs, 2), "t"));
    assert_true(t1 - t0 >= 0.09); /* backoff: at least half of 200 ms */
    assert_true(t2 - t1 >= 0.95); /* Retry-After: 1 s, longer than the 400 ms backoff */
    cJSON_Delete(reqs);
    /* Every attempt is on record, in order. */
    assert_int_equal(fx_scalar(db, ATTEMPTS_OF_DEST, d), 3);
    assert_int_equal(fx_scalar(db,
                               "SELECT MIN(status_code) FROM delivery_attempts x JOIN deliveries d "
                               "ON d.id = x.delivery_id WHERE d.destination_id = $1",
                               d),
                     204);
    assert_int_equal(fx_scalar(db,
                               "SELECT MAX(status_code) FROM delivery_attempts x JOIN deliveries d "
                               "ON d.id = x.delivery_id WHERE d.destination_id = $1",
                               d),
                     500);
    child_stop(r.pid);
}

static void test_a_hanging_receiver_times_out_and_is_retried(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "hang,204");
    timings.notify_timeout_ms = 700;
    int64_t p = test_project(db, "shop");
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}", r.port);
    int64_t d = fx_destination(db, p, "slack_webhook", cfg);
    fx_alert(db, p, "Boom");
    notify_until(server_for(ts, true, 20), db, DONE_OF_DEST, d, 1);
    assert_int_equal(fx_scalar(db, ATTEMPTS_OF_DEST, d), 2);
    struct db_stmt *st =
        db_prepare(db, "SELECT x.error, x.duration_ms FROM delivery_attempts x JOIN deliveries d "
                       "ON d.id = x.delivery_id WHERE d.destination_id = $1 ORDER BY x.id");
    db_bind_int64(st, 1, d);
    assert_int_equal(db_step(st), DB_ROW);
    assert_non_null(strstr(db_col_text(st, 0), "Timeout"));
    assert_true(db_col_int64(st, 1) >= 650 && db_col_int64(st, 1) < 2500);
    db_finish(st);
    child_stop(r.pid);
}

static void test_restart_mid_retry_loses_nothing_and_sends_once(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "503,204");
    timings.notify_retry_base_ms = 3000;
    int64_t p = test_project(db, "shop");
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}", r.port);
    int64_t d = fx_destination(db, p, "discord_webhook", cfg);
    fx_alert(db, p, "Boom");
    struct notifier *nf = NULL;
    assert_int_equal(notifier_start(server_for(ts, true, 20), &nf), 0);
    wait_for(db, ATTEMPTS_OF_DEST, d, 1); /* the 503 */
    notifier_stop(nf);                    /* down while the retry waits */
    assert_int_equal(
        fx_scalar(
            db, "SELECT COUNT(*) FROM deliveries WHERE destination_id = $1 AND status = 'pending'",
            d),
        1);
    assert_int_equal(notifier_start(server_for(ts, true, 20), &nf), 0);
    wait_for(db, DONE_OF_DEST, d, 1);
    sleep_ms(300); /* anything duplicated would arrive now */
    notifier_stop(nf);
    cJSON *reqs = received(&r);
    assert_int_equal(json_size(reqs), 2);
    cJSON_Delete(reqs);
    assert_int_equal(fx_scalar(db, ATTEMPTS_OF_DEST, d), 2);
    assert_int_equal(
        fx_scalar(
            db, "SELECT COUNT(*) FROM deliveries WHERE destination_id = $1 AND status = 'sent'", d),
        1);
    child_stop(r.pid);
}

static void test_localhost_is_refused_without_the_override(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "204");
    int64_t p = test_project(db, "shop");
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://localhost:%d/hook\"}", r.port);
    int64_t d = fx_destination(db, p, "generic_webhook", cfg);
    fx_alert(db, p, "Boom");
    notify_until(server_for(ts, false, 20), db, DONE_OF_DEST, d, 1);
    assert_int_equal(
        fx_scalar(db,
                  "SELECT COUNT(*) FROM deliveries WHERE destination_id = $1 AND status = 'failed'",
                  d),
        1);
    assert_int_equal(fx_scalar(db, ATTEMPTS_OF_DEST, d), 1); /* refused is final */
    struct db_stmt *st =
        db_prepare(db, "SELECT last_error FROM deliveries WHERE destination_id = $1");
    db_bind_int64(st, 1, d);
    assert_int_equal(db_step(st), DB_ROW);
    assert_non_null(strstr(db_col_text(st, 0), "refused (loopback)"));
    db_finish(st);
    cJSON *reqs = received(&r);
    assert_int_equal(json_size(reqs), 0);
    cJSON_Delete(reqs);
    child_stop(r.pid);
}

static void test_a_burst_beyond_the_rate_is_folded_into_one_digest(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "204");
    timings.notify_throttle_window_ms = 1500;
    int64_t p = test_project(db, "shop");
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}", r.port);
    int64_t d = fx_destination(db, p, "generic_webhook", cfg);
    for (int i = 0; i < 6; i++)
        fx_alert(db, p, "Boom");
    notify_until(server_for(ts, true, 2), db, DONE_OF_DEST, d, 6);
    cJSON *reqs = received(&r);
    assert_int_equal(json_size(reqs), 3); /* 2 alerts, then 1 digest of 4 */
    cJSON *digest = json_parse_text(json_str(json_get(json_at(reqs, 2), "body")));
    assert_string_equal(json_str(json_get(digest, "event")), "alert.digest");
    assert_int_equal(json_i64(json_get(json_get(digest, "data"), "count")), 4);
    double gap = cJSON_GetNumberValue(json_get(json_at(reqs, 2), "t")) -
                 cJSON_GetNumberValue(json_get(json_at(reqs, 0), "t"));
    assert_true(gap >= 1.4); /* sent when the window ended */
    cJSON_Delete(digest);
    cJSON_Delete(reqs);
    child_stop(r.pid);
}

static const char *last_error_of(struct db *db, int64_t dest, char *out, size_t len)
{
    struct db_stmt *st =
        db_prepare(db, "SELECT status, last_error FROM deliveries WHERE destination_id = $1");
    db_bind_int64(st, 1, dest);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_col_text(st, 0), "failed");
    snprintf(out, len, "%s", db_col_text(st, 1) ? db_col_text(st, 1) : "");
    db_finish(st);
    return out;
}

/* A title that is not valid UTF-8 (stored before ingest repaired it; SQLite
 * keeps such bytes) is still delivered; an alert whose data cannot be built
 * at all, or a destination sealed with a key this server lacks, fails at
 * once with the reason instead of staying "sending" with no attempt. */
static void test_undeliverable_data_fails_with_its_reason_and_bad_text_is_sent(void **state)
{
    struct test_store *ts = *state;
    struct db *db = store_writer(ts->store);
    struct receiver r;
    receiver_start(ts, &r, "204");
    char cfg[256], why[256];
    snprintf(cfg, sizeof cfg, "{\"webhook_url\":\"http://127.0.0.1:%d/hook\"}", r.port);
    int64_t p = test_project(db, "shop");
    fx_destination(db, p, "generic_webhook", cfg);
    int64_t a = fx_alert(db, p, "bad \xff\xfe");
    notify_until(server_for(ts, true, 20), db, SENT_OF_ALERT, a, 1);
    cJSON *reqs = received(&r);
    assert_int_equal(json_size(reqs), 1);
    cJSON *body = json_parse_text(json_str(json_get(json_at(reqs, 0), "body")));
    assert_string_equal(json_str(json_get(json_get(json_get(body, "data"), "issue"), "title")),
                        "bad \xef\xbf\xbd\xef\xbf\xbd");
    cJSON_Delete(body);
    cJSON_Delete(reqs);

    /* The issue link cannot be made from this PUBLIC_URL: nothing to send. */
    int64_t p2 = test_project(db, "shop2");
    int64_t d2 = fx_destination(db, p2, "generic_webhook", cfg);
    fx_alert(db, p2, "Boom");
    struct notifier_deps *srv = server_for(ts, true, 20);
    ((struct config *)srv->cfg)->public_url = "https://periscope.example/\xff";
    notify_until(srv, db, DONE_OF_DEST, d2, 1);
    assert_non_null(strstr(last_error_of(db, d2, why, sizeof why), "cannot be rendered"));
    assert_int_equal(fx_scalar(db, ATTEMPTS_OF_DEST, d2), 1);

    /* Sealed with a key this server does not have. */
    struct config keyed = ts->tb.cfg;
    keyed.secrets_key_set = true;
    assert_int_equal(secretbox_key_parse("00112233445566778899aabbccddeeff00112233445566778899aabb"
                                         "ccddeeff",
                                         keyed.secrets_key),
                     0);
    struct db *kdb = NULL;
    char err[256];
    assert_int_equal(db_open(&keyed, &kdb, err, sizeof err), 0);
    int64_t p3 = test_project(db, "shop3");
    int64_t d3 = fx_destination(kdb, p3, "generic_webhook", cfg);
    db_close(kdb);
    fx_alert(db, p3, "Boom");
    notify_until(server_for(ts, true, 20), db, DONE_OF_DEST, d3, 1);
    assert_non_null(strstr(last_error_of(db, d3, why, sizeof why), "SECRETS_KEY"));
    reqs = received(&r);
    assert_int_equal(json_size(reqs), 1); /* neither of the last two was sent */
    cJSON_Delete(reqs);
    child_stop(r.pid);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_slack_and_email_arrive_signed_and_formatted,
                                        setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(
            test_failures_are_retried_with_backoff_honouring_retry_after, setup,
            test_store_teardown),
        cmocka_unit_test_setup_teardown(test_a_hanging_receiver_times_out_and_is_retried, setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_retry_loses_nothing_and_sends_once, setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_localhost_is_refused_without_the_override, setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_a_burst_beyond_the_rate_is_folded_into_one_digest,
                                        setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(
            test_undeliverable_data_fails_with_its_reason_and_bad_text_is_sent, setup,
            test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
