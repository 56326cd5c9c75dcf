/* pipeline_bench — throughput of the pipeline without HTTP: realistic
 * Python-style ~4.5 KB error events (Django stack, breadcrumbs, request,
 * contexts), SQLite, ACK_MODE=commit.
 *
 *   bench_pipeline_bench [EVENTS] [ISSUES]      (defaults 20000, 50)
 *
 * Prints µs/event per stage on one thread (parse is ingest's cost, shown
 * for scale), the writer alone (batches of BATCH_MAX), and the whole
 * pipeline (pipeline_start: WORKERS workers + writer) in events/s, counted
 * from the first publish until the last ack. Env: WORKERS, BATCH_MAX;
 * POSTGRES_PORT (with POSTGRES_HOST/USER/PASSWORD/DATABASE) runs the writer
 * and pipeline parts on that Postgres database instead of SQLite. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/ack.h"
#include "base/compress.h"
#include "base/config.h"
#include "model/event.h"
#include "grouping/fallback.h"
#include "lua/runtime.h"
#include "model/normalize.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline.h"
#include "store/projects.h"
#include "store/store.h"
#include "base/topic.h"
#include "pipeline/worker.h"
#include "pipeline/writer.h"

static const char *const FRAMES[][4] = {
    {"django.core.handlers.exception", "django/core/handlers/exception.py", "inner",
     "response = get_response(request)"},
    {"django.core.handlers.base", "django/core/handlers/base.py", "_get_response",
     "response = wrapped_callback(request, *callback_args, **callback_kwargs)"},
    {"django.views.generic.base", "django/views/generic/base.py", "view",
     "return self.dispatch(request, *args, **kwargs)"},
    {"rest_framework.views", "rest_framework/views.py", "dispatch",
     "response = handler(request, *args, **kwargs)"},
    {"shop.api.views", "shop/api/views.py", "post",
     "order = self.service.place(request.user, serializer.validated_data)"},
    {"shop.services.orders", "shop/services/orders.py", "place",
     "invoice = self.billing.invoice(order, customer=customer)"},
    {"shop.services.billing", "shop/services/billing.py", "invoice",
     "lines = [self._line(item, currency) for item in order.items]"},
    {"shop.services.billing", "shop/services/billing.py", "_line", "rate = self.rates[currency]"},
};

/* CPU seconds (user + system) of the whole process so far: under a noisy
 * machine a steadier measure than wall time. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One event's JSON text (caller frees). */
static char *make_event(unsigned n, unsigned issue)
{
    size_t cap = 8192, len = 0;
    char *s = malloc(cap);
#define PUT(...) len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__)
    PUT("{\"event_id\":\"%08x%024x\",\"timestamp\":%.6f,\"platform\":\"python\",\"level\":"
        "\"error\","
        "\"logger\":\"django.request\",\"server_name\":\"web-%u\",\"release\":\"shop@2.%u.0\","
        "\"environment\":\"production\",\"sdk\":{\"name\":\"sentry.python.django\",\"version\":\"1."
        "40.0\"},"
        "\"exception\":{\"values\":[{\"type\":\"BillingError%06u\",\"value\":\"no rate for "
        "currency "
        "'XTS'\",\"module\":\"shop.services.billing\",\"mechanism\":{\"type\":\"django\","
        "\"handled\":false},\"stacktrace\":{\"frames\":[",
        n, n, 1700000000.0 + n * 0.001, n % 8, n % 5, issue);
    for (size_t i = 0; i < sizeof(FRAMES) / sizeof(FRAMES[0]); i++)
        PUT("%s{\"module\":\"%s\",\"filename\":\"%s\",\"abs_path\":\"/srv/app/venv/lib/python3.11/"
            "site-packages/%s\",\"function\":\"%s\",\"lineno\":%zu,\"context_line\":\"    %s\","
            "\"pre_context\":[\"\",\"    try:\"],\"post_context\":[\"    except KeyError:\",\"     "
            "   raise\"],"
            "\"in_app\":%s,\"vars\":{\"self\":\"<%s object at "
            "0x7f%08x>\",\"request\":\"<WSGIRequest: "
            "POST '/api/orders/'>\"}}",
            i ? "," : "", FRAMES[i][0], FRAMES[i][1], FRAMES[i][1], FRAMES[i][2], 40 + i * 7,
            FRAMES[i][3], strncmp(FRAMES[i][0], "shop.", 5) == 0 ? "true" : "false", FRAMES[i][2],
            n);
    PUT("]}}]},\"breadcrumbs\":{\"values\":[");
    for (int i = 0; i < 6; i++)
        PUT("%s{\"timestamp\":%.3f,\"category\":\"query\",\"message\":\"SELECT "
            "\\\"shop_order\\\".\\\"id\\\" "
            "FROM \\\"shop_order\\\" WHERE \\\"shop_order\\\".\\\"id\\\" = "
            "%u\",\"level\":\"info\"}",
            i ? "," : "", 1700000000.0 + i, n + (unsigned)i);
    PUT("]},\"request\":{\"url\":\"https://shop.example.com/api/orders/\",\"method\":\"POST\","
        "\"headers\":{\"User-Agent\":\"Mozilla/5.0 (X11; Linux "
        "x86_64)\",\"Accept\":\"application/json\","
        "\"Content-Type\":\"application/json\"},\"data\":{\"items\":[%u,%u],\"currency\":\"XTS\"}},"
        "\"contexts\":{\"runtime\":{\"name\":\"CPython\",\"version\":\"3.11.6\"},\"os\":{\"name\":"
        "\"Linux\"},"
        "\"trace\":{\"trace_id\":\"%032x\",\"span_id\":\"%016x\"}},\"tags\":{\"customer_tier\":"
        "\"gold\","
        "\"region\":\"eu-west-1\"},\"user\":{\"id\":\"%u\",\"email\":\"user%u@example.com\","
        "\"ip_address\":\"10.0.%u.%u\"},\"modules\":{\"django\":\"4.2.7\",\"djangorestframework\":"
        "\"3.14.0\"}}",
        n, n + 1, n, n, n % 1000, n, n % 250, n % 250);
#undef PUT
    return s;
}

static struct raw_event *parse_event(const char *text, unsigned n, int64_t project_id,
                                     struct ack *ack)
{
    struct raw_event *ev = raw_event_new();
    ev->project_id = project_id;
    ev->event_id[0] = 0xbe;
    for (int i = 0; i < 4; i++)
        ev->event_id[15 - i] = (uint8_t)(n >> (8 * i));
    ev->received_at_ms = clock_wall_ms();
    ev->json = cJSON_Parse(text);
    ev->raw = strdup(text); /* as ingest keeps the bytes received (event.h) */
    ev->raw_len = ev->raw ? strlen(ev->raw) : 0;
    ev->ack = ack;
    return ev;
}

struct bench_env {
    struct config cfg;
    struct pipeline_deps srv;
    char dir[64], path[128];
    int64_t project_id;
};

static int env_open(struct bench_env *b, int batch_max, int workers, int capacity)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->dir, sizeof(b->dir), "/tmp/periscope-bench-XXXXXX");
    if (!mkdtemp(b->dir)) return -errno;
    snprintf(b->path, sizeof(b->path), "%s/bench.db", b->dir);
    b->cfg.sqlite_path = b->path;
    b->cfg.data_dir = b->dir;
    b->cfg.batch_max = batch_max;
    b->cfg.workers = workers;
    b->cfg.queue_capacity = capacity;
    b->srv.cfg = &b->cfg;
    if (getenv("POSTGRES_PORT")) {
        /* POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE: a database to fill. */
        b->cfg.postgres_enabled = true;
        b->cfg.pg_host = getenv("POSTGRES_HOST") ? getenv("POSTGRES_HOST") : "127.0.0.1";
        b->cfg.pg_port = atoi(getenv("POSTGRES_PORT"));
        b->cfg.pg_user = getenv("POSTGRES_USER") ? getenv("POSTGRES_USER") : "pguser";
        b->cfg.pg_password = getenv("POSTGRES_PASSWORD") ? getenv("POSTGRES_PASSWORD") : "";
        b->cfg.pg_database =
            getenv("POSTGRES_DATABASE") ? getenv("POSTGRES_DATABASE") : "periscope";
    }
    char err[256], key[PUBLIC_KEY_HEX + 1];
    if (store_open(&b->cfg, &b->srv.store, err, sizeof(err)) != 0) {
        fprintf(stderr, "store: %s\n", err);
        return -EIO;
    }
    b->srv.events = topic_new("events", (size_t)capacity);
    b->srv.alerts = topic_new("alerts", 100000);
    return projects_create(store_writer(b->srv.store), "bench", &b->project_id, key);
}

static void env_close(struct bench_env *b)
{
    void *m;
    while (topic_take(b->srv.alerts, &m, 1, 0) == 1)
        free(m);
    topic_free(b->srv.events);
    topic_free(b->srv.alerts);
    store_close(b->srv.store);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", b->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", b->dir);
}

static atomic_int g_acked, g_failed;

static void on_ack(void *ctx, int status)
{
    (void)ctx;
    if (status != 0) g_failed++;
    g_acked++;
}

/* Stage costs on one thread. */
static void bench_stages(char **texts, unsigned n)
{
    double t_parse = 0, t_norm = 0, t_group = 0, t_lua = 0, t_print = 0, t_zstd = 0;
    struct pipeline_deps srv = {0}; /* no registry: the default rules */
    struct runtime *rt;
    if (runtime_new(srv.scripts, srv.cfg, &rt) != 0) return;
    size_t bytes = 0, zbytes = 0;
    char *buf = malloc(1 << 20);
    for (unsigned i = 0; i < n; i++) {
        double t0 = now_s();
        struct raw_event *raw = parse_event(texts[i], i, 1, NULL);
        struct grouped_event *ev = grouped_event_new();
        grouped_event_from_raw(ev, raw);
        double t1 = now_s();
        normalize_event(raw->json, ev);
        double t2 = now_s();
        grouping_fallback(raw->json, ev->hash, &ev->title, &ev->culprit);
        double t2b = now_s();
        runtime_process(rt, raw->json, ev);
        double t3 = now_s();
        cJSON_PrintPreallocated(raw->json, buf, 1 << 20, 0);
        size_t len = strlen(buf);
        double t4 = now_s();
        compress_payload(buf, len, &ev->payload, &ev->payload_len);
        double t5 = now_s();
        t_parse += t1 - t0, t_norm += t2 - t1, t_group += t2b - t2, t_lua += t3 - t2b,
            t_print += t4 - t3, t_zstd += t5 - t4;
        bytes += strlen(texts[i]);
        zbytes += ev->payload_len;
        raw_event_free(raw);
        grouped_event_free(ev);
    }
    free(buf);
    runtime_free(rt);
    double us = 1e6 / n;
    printf("event size: %.0f bytes, stored %.0f bytes (zstd ratio %.1f)\n", (double)bytes / n,
           (double)zbytes / n, (double)bytes / (double)zbytes);
    printf("stage µs/event (1 thread): parse %.1f (ingest) | normalize %.1f | C fallback grouping "
           "%.1f | Lua grouping %.1f | print %.1f | zstd %.1f | worker total (Lua) %.1f\n",
           t_parse * us, t_norm * us, t_group * us, t_lua * us, t_print * us, t_zstd * us,
           (t_norm + t_lua + t_print + t_zstd) * us);
}

/* The writer alone: pre-processed events, batches of batch_max. */
static void bench_writer(char **texts, unsigned n, int batch_max)
{
    struct bench_env b;
    if (env_open(&b, batch_max, 1, (int)n) != 0) return;
    struct worker_ctx *wk;
    struct writer *w;
    worker_ctx_new(&b.srv, &wk);
    writer_new(&b.srv, &w);
    struct grouped_event **evs = calloc(n, sizeof(*evs));
    for (unsigned i = 0; i < n; i++) {
        struct raw_event *raw = parse_event(texts[i], i, b.project_id, NULL);
        worker_process(wk, raw, &evs[i]);
        raw_event_free(raw);
    }
    double t0 = now_s(), c0 = cpu_s();
    for (unsigned i = 0; i < n; i += (unsigned)batch_max) {
        unsigned k = n - i < (unsigned)batch_max ? n - i : (unsigned)batch_max;
        writer_commit_batch(w, evs + i, k);
    }
    double t = now_s() - t0, c = cpu_s() - c0;
    printf("writer alone (%s, batches of %d): %.1f µs/event wall, %.1f CPU µs/event, "
           "%.0f events/s\n",
           b.cfg.postgres_enabled ? "Postgres" : "SQLite", batch_max, t * 1e6 / n, c * 1e6 / n,
           n / t);
    free(evs);
    writer_free(w);
    worker_ctx_free(wk);
    env_close(&b);
}

/* Everything after ingest: publish parsed events, wait for the last ack. */
static void bench_pipeline(char **texts, unsigned n, int batch_max, int workers)
{
    struct bench_env b;
    if (env_open(&b, batch_max, workers, 10000) != 0) return;
    struct raw_event **evs = calloc(n, sizeof(*evs));
    for (unsigned i = 0; i < n; i++)
        evs[i] = parse_event(texts[i], i, b.project_id, ack_new(1, on_ack, NULL));
    struct pipeline *p;
    if (pipeline_start(&b.srv, &p) != 0) {
        fprintf(stderr, "pipeline_start failed\n");
        return;
    }
    g_acked = g_failed = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (unsigned i = 0; i < n;) {
        if (topic_publish(b.srv.events, evs[i]) == 0)
            i++;
        else
            usleep(100);
    }
    while (g_acked < (int)n && now_s() - t0 < 120)
        usleep(200);
    double t = now_s() - t0, c = cpu_s() - c0;
    pipeline_stop(p);
    printf("pipeline (%d workers + writer, %s, commit-ack): %u events in %.2f s: %.0f events/s, "
           "%.1f µs/event wall, %.1f CPU µs/event, %d failed\n",
           workers, b.cfg.postgres_enabled ? "Postgres" : "SQLite", n, t, n / t, t * 1e6 / n,
           c * 1e6 / n, (int)g_failed);
    free(evs);
    env_close(&b);
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    unsigned issues = argc > 2 ? (unsigned)atoi(argv[2]) : 50;
    int batch_max = getenv("BATCH_MAX") ? atoi(getenv("BATCH_MAX")) : 1000;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = getenv("WORKERS") ? atoi(getenv("WORKERS")) : (int)(cores > 0 ? cores : 1);
    if (n == 0 || issues == 0 || batch_max <= 0 || workers <= 0) {
        fprintf(stderr, "usage: %s [EVENTS] [ISSUES]\n", argv[0]);
        return 2;
    }
    char **texts = calloc(n, sizeof(*texts));
    for (unsigned i = 0; i < n; i++)
        texts[i] = make_event(i, i % issues);
    const char *only = getenv("BENCH_ONLY");
    if (!only || strcmp(only, "stages") == 0) bench_stages(texts, n);
    if (!only || strcmp(only, "writer") == 0) bench_writer(texts, n, batch_max);
    if (!only || strcmp(only, "pipeline") == 0) bench_pipeline(texts, n, batch_max, workers);
    for (unsigned i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    compress_thread_cleanup();
    return 0;
}
