/* stages — CPU µs per event for each stage of the pipeline, on real event
 * JSON, so that `make bench` shows which stage moved when throughput does.
 *
 * Usage: bench_stages LABEL=FILE [LABEL=FILE …]   (one event JSON per file,
 * e.g. 4k=… 50k=… written by bench/gen_events.py json). BENCH_QUICK=1 runs
 * short loops. Each stage runs its loop three times on this one thread and
 * reports the median of the three means. Prints a table to stderr and one
 * line "STAGES {json}" to stdout (bench/bench.py reads it).
 *
 * Uses the project's own modules (normalize, scrub, compress, grouping,
 * lua/script, lua/event_table, worker, writer_batch, store) exactly as the
 * server does; the SQLite stage writes to a throwaway DATA_DIR. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/compress.h"
#include "base/config.h"
#include "model/event.h"
#include "grouping/fallback.h"
#include "grouping/hash.h"
#include "grouping/parameterize.h"
#include "lua/event_table.h"
#include "lua/grouping_memo.h"
#include "lua/script.h"
#include "lua/script_scrub.h"
#include "lua/vm.h"
#include "model/normalize.h"
#include "model/scrub.h"
#include "store/events_write.h"
#include "store/projects.h"
#include "store/store.h"
#include "pipeline/worker.h"
#include "pipeline/writer_batch.h"

enum { ROUNDS = 3, MAX_INPUTS = 4, HASH_PARTS_MAX = 64, SQL_BATCH = 1000, SQL_ISSUES = 100 };

struct input {
    const char *label;
    char *json;
    size_t len;
    int iters;
};

struct ctx {
    struct config cfg;
    struct script *script;       /* the default grouping, no project hooks */
    struct script *scrub_script; /* a scrub hook that changes nothing */
    struct grouping_memo *memo;  /* for the digest stage */
    struct worker_ctx *worker;
    struct store *store;
    int64_t project_id;
    char print_buf[4 << 20];
};

typedef int (*stage_fn)(struct ctx *c, const struct input *in, double *ns);

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* normalize_event on ev's tree; what it fills besides is dropped. */
static int normalize_raw(struct raw_event *ev, double *ns)
{
    struct grouped_event g = {.received_at_ms = ev->received_at_ms};
    memcpy(g.event_id, ev->event_id, sizeof g.event_id);
    double t = ns ? now_ns() : 0;
    int rc = normalize_event(ev->json, &g);
    if (ns) *ns += now_ns() - t;
    free(g.environment);
    free(g.release);
    return rc;
}

/* A (normalized) event for in as ingest hands it over (caller
 * raw_event_free()s), or NULL. */
static struct raw_event *fresh_event(const struct input *in, int normalize)
{
    struct raw_event *ev = raw_event_new();
    if (ev == NULL) return NULL;
    event_id_generate(ev->event_id);
    ev->project_id = 1;
    ev->json = cJSON_ParseWithLength(in->json, in->len);
    ev->raw = malloc(in->len ? in->len : 1); /* as ingest keeps the bytes received */
    ev->raw_len = in->len;
    if (ev->raw) memcpy(ev->raw, in->json, in->len);
    if (ev->json == NULL || ev->raw == NULL || (normalize && normalize_raw(ev, NULL) != 0)) {
        raw_event_free(ev);
        return NULL;
    }
    return ev;
}

static int stage_parse(struct ctx *c, const struct input *in, double *ns)
{
    (void)c;
    double t = now_ns();
    cJSON *j = cJSON_ParseWithLength(in->json, in->len);
    *ns += now_ns() - t;
    if (j == NULL) return -EINVAL;
    cJSON_Delete(j);
    return 0;
}

static int stage_normalize(struct ctx *c, const struct input *in, double *ns)
{
    (void)c;
    struct raw_event *ev = fresh_event(in, 0);
    if (ev == NULL) return -EINVAL;
    int rc = normalize_raw(ev, ns);
    raw_event_free(ev);
    return rc;
}

static int stage_lua_table(struct ctx *c, const struct input *in, double *ns)
{
    if (c->script == NULL) return -ENOENT;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    struct event_table_args args = {.event = ev->json,
                                    .max_depth = c->cfg.max_json_depth,
                                    .fields = event_table_grouping_fields,
                                    .skip_keys = event_table_grouping_skip,
                                    .narrow = event_table_grouping_narrow};
    struct vm *vm = script_vm(c->script);
    double t = now_ns();
    int rc = vm_cpcall(vm, event_table_push, &args, 1, NULL);
    *ns += now_ns() - t;
    if (rc == 0) lua_pop(vm_lua(vm), 1);
    raw_event_free(ev);
    return rc;
}

static int stage_lua_grouping(struct ctx *c, const struct input *in, double *ns)
{
    if (c->script == NULL) return -ENOENT;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    struct script_result res = {0};
    double t = now_ns();
    int rc = script_run(c->script, ev->json, false, &res);
    *ns += now_ns() - t;
    script_result_clear(&res);
    raw_event_free(ev);
    return rc;
}

/* What the grouping memo adds to a miss: the digest of the table's input. */
static int stage_memo_key(struct ctx *c, const struct input *in, double *ns)
{
    if (c->script == NULL || c->memo == NULL) return -ENOENT;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    struct event_table_args args;
    struct grouping_memo_key key;
    double t = now_ns();
    script_event_args(c->script, ev->json, &args);
    grouping_memo_key(&args, ev->project_id, 0, &key);
    *ns += now_ns() - t;
    raw_event_free(ev);
    return 0;
}

/* The built-in personal data scrubbing with the default rules on the
 * normalized tree (what every event pays before grouping). */
static int stage_scrub(struct ctx *c, const struct input *in, double *ns)
{
    (void)c;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    double t = now_ns();
    int rc = scrub_event(NULL, ev->json);
    *ns += now_ns() - t;
    raw_event_free(ev);
    return rc < 0 ? rc : 0;
}

/* What a project's scrub hook costs at least: the whole event into Lua and
 * back into a cJSON tree (the hook itself does nothing). */
static int stage_scrub_hook(struct ctx *c, const struct input *in, double *ns)
{
    if (c->scrub_script == NULL) return -ENOENT;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    cJSON *out = NULL;
    struct vm_error err;
    double t = now_ns();
    int rc = script_scrub(c->scrub_script, ev->json, &out, &err);
    *ns += now_ns() - t;
    cJSON_Delete(out);
    raw_event_free(ev);
    return rc == 1 ? 0 : -EIO;
}

static int stage_c_grouping(struct ctx *c, const struct input *in, double *ns)
{
    (void)c;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    char hash[33];
    char *title = NULL, *culprit = NULL;
    double t = now_ns();
    int rc = grouping_fallback(ev->json, hash, &title, &culprit);
    *ns += now_ns() - t;
    free(title);
    free(culprit);
    raw_event_free(ev);
    return rc;
}

static const cJSON *first_exception(const cJSON *event)
{
    const cJSON *values = cJSON_GetObjectItem(cJSON_GetObjectItem(event, "exception"), "values");
    return cJSON_GetArrayItem(values, 0);
}

static int stage_parameterize(struct ctx *c, const struct input *in, double *ns)
{
    struct raw_event *ev = fresh_event(in, 1);
    const char *v =
        ev ? cJSON_GetStringValue(cJSON_GetObjectItem(first_exception(ev->json), "value")) : NULL;
    int rc = -EINVAL;
    if (v != NULL) {
        size_t len = strlen(v), out_len;
        double t = now_ns();
        rc = parameterize(v, len, c->print_buf, sizeof c->print_buf, &out_len);
        *ns += now_ns() - t;
    }
    raw_event_free(ev);
    return rc;
}

/* MD5 over what a stack-trace grouping feeds: type, then per frame the
 * module, function and context line. */
static int stage_hash(struct ctx *c, const struct input *in, double *ns)
{
    (void)c;
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    const char *vals[HASH_PARTS_MAX];
    size_t lens[HASH_PARTS_MAX], n = 0;
    const cJSON *ex = first_exception(ev->json), *frame;
    vals[n++] = cJSON_GetStringValue(cJSON_GetObjectItem(ex, "type"));
    cJSON_ArrayForEach(frame, cJSON_GetObjectItem(cJSON_GetObjectItem(ex, "stacktrace"), "frames"))
    {
        static const char *const keys[] = {"module", "function", "context_line"};
        for (size_t k = 0; k < 3 && n < HASH_PARTS_MAX; k++) {
            const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(frame, keys[k]));
            if (s != NULL) vals[n++] = s;
        }
    }
    for (size_t i = 0; i < n; i++)
        lens[i] = vals[i] ? strlen(vals[i]) : 0;
    char hex[33];
    double t = now_ns();
    int rc = grouping_hash(vals, lens, n, hex);
    *ns += now_ns() - t;
    raw_event_free(ev);
    return rc;
}

static int stage_print(struct ctx *c, const struct input *in, double *ns)
{
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL) return -EINVAL;
    double t = now_ns();
    int ok = cJSON_PrintPreallocated(ev->json, c->print_buf, (int)sizeof c->print_buf, 0);
    *ns += now_ns() - t;
    raw_event_free(ev);
    return ok ? 0 : -E2BIG;
}

static int stage_zstd(struct ctx *c, const struct input *in, double *ns)
{
    struct raw_event *ev = fresh_event(in, 1);
    if (ev == NULL ||
        !cJSON_PrintPreallocated(ev->json, c->print_buf, (int)sizeof c->print_buf, 0)) {
        raw_event_free(ev);
        return -EINVAL;
    }
    void *out;
    size_t out_len;
    double t = now_ns();
    int rc = compress_payload(c->print_buf, strlen(c->print_buf), &out, &out_len);
    *ns += now_ns() - t;
    if (rc == 0) free(out);
    raw_event_free(ev);
    return rc;
}

static int stage_worker(struct ctx *c, const struct input *in, double *ns)
{
    struct raw_event *ev = fresh_event(in, 0);
    if (ev == NULL) return -EINVAL;
    struct grouped_event *g = NULL;
    double t = now_ns();
    int rc = worker_process(c->worker, ev, &g);
    *ns += now_ns() - t;
    raw_event_free(ev);
    grouped_event_free(g);
    return rc;
}

/* One SQL_BATCH-event transaction through the writer's own batch code, over
 * SQL_ISSUES issues; reported per event (the loop calls it iters/SQL_BATCH
 * times, each adds SQL_BATCH events' worth). */
static int stage_sqlite(struct ctx *c, const struct input *in, double *ns)
{
    static struct grouped_event *evs[SQL_BATCH];
    int rc = 0;
    size_t n = 0;
    while (n < SQL_BATCH && rc == 0) {
        struct raw_event *raw = fresh_event(in, 0);
        if (raw == NULL) {
            rc = -EINVAL;
            break;
        }
        struct grouped_event *ev = NULL;
        rc = worker_process(c->worker, raw, &ev);
        raw_event_free(raw);
        if (rc != 0) break;
        evs[n++] = ev;
        ev->project_id = c->project_id;
        snprintf(ev->hash + 28, 5, "%04zu", n % SQL_ISSUES); /* SQL_ISSUES distinct issues */
    }
    struct writer_batch *b = writer_batch_new(SQL_BATCH);
    struct db *db = store_writer(c->store);
    struct writer_batch_result res = {0};
    if (rc == 0 && n == SQL_BATCH && b != NULL) {
        double t = now_ns();
        rc = events_write_begin(db);
        if (rc == 0) rc = writer_batch_write(b, db, evs, n, clock_wall_ms(), &res);
        rc = rc == 0 ? events_write_commit(db) : (events_write_rollback(db), rc);
        *ns += (now_ns() - t) / SQL_BATCH;
        if (rc == 0)
            writer_batch_take_alerts(b);
        else
            writer_batch_discard(b);
    } else if (rc == 0) {
        rc = -ENOMEM;
    }
    for (size_t i = 0; i < res.nalerts && rc == 0; i++)
        free(res.alerts[i]);
    writer_batch_free(b);
    for (size_t i = 0; i < n; i++)
        grouped_event_free(evs[i]);
    return rc;
}

static const struct {
    const char *name;
    stage_fn fn;
    int per_batch; /* the fn does SQL_BATCH events per call */
} STAGES[] = {
    {"cJSON parse", stage_parse, 0},
    {"normalize", stage_normalize, 0},
    {"Lua event table (grouping fields)", stage_lua_table, 0},
    {"Lua default grouping (table+walk+hash)", stage_lua_grouping, 0},
    {"grouping memo digest (a miss's extra)", stage_memo_key, 0},
    {"scrub (default rules)", stage_scrub, 0},
    {"scrub hook (empty; table and back)", stage_scrub_hook, 0},
    {"C fallback grouping", stage_c_grouping, 0},
    {"parameterize (exception value)", stage_parameterize, 0},
    {"hash (MD5 of components)", stage_hash, 0},
    {"print normalized JSON", stage_print, 0},
    {"zstd level 1", stage_zstd, 0},
    {"worker_process (whole worker)", stage_worker, 0},
    {"SQLite batch write (1000/txn)", stage_sqlite, 1},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over ROUNDS of the mean µs per event; < 0 when the stage failed. */
static double measure(struct ctx *c, size_t stage, const struct input *in, int *err)
{
    double means[ROUNDS];
    int calls = STAGES[stage].per_batch ? (in->iters + SQL_BATCH - 1) / SQL_BATCH : in->iters;
    if (calls < 1) calls = 1;
    for (int r = 0; r < ROUNDS; r++) {
        double ns = 0;
        for (int i = 0; i < calls; i++) {
            if ((*err = STAGES[stage].fn(c, in, &ns)) != 0) return -1;
        }
        means[r] = ns / calls / 1000.0;
    }
    qsort(means, ROUNDS, sizeof means[0], cmp_double);
    return means[ROUNDS / 2];
}

static int ctx_open(struct ctx *c, char *dir_template)
{
    char err[256] = "";
    struct vm_error verr = {0};
    if (mkdtemp(dir_template) == NULL) return -errno;
    setenv("DATA_DIR", dir_template, 1);
    unsetenv("SQLITE_PATH");
    setenv("POSTGRES_ENABLED", "false", 1);
    int rc = config_load(&c->cfg, err, sizeof err);
    if (rc == 0) rc = store_open(&c->cfg, &c->store, err, sizeof err);
    if (rc == 0) {
        char key[PUBLIC_KEY_HEX + 1];
        rc = projects_create(store_writer(c->store), "bench", &c->project_id, key);
    }
    if (rc == 0) rc = worker_ctx_new(NULL, &c->worker);
    if (rc == 0) {
        struct vm_limits lim;
        vm_limits_from_config(&c->cfg, &lim);
        /* Without the grouping module only the Lua stages fail. */
        if (grouping_memo_new(GROUPING_MEMO_ENTRIES_DEFAULT, &c->memo) != 0)
            rc = -ENOMEM;
        else if (script_open(&lim, NULL, 0, &c->script, &verr) != 0)
            fprintf(stderr, "bench_stages: Lua grouping unavailable: %s\n", verr.message);
        static const char hook[] = "return { scrub = function(event) end }";
        if (c->script && script_open(&lim, hook, sizeof hook - 1, &c->scrub_script, &verr) != 0)
            fprintf(stderr, "bench_stages: scrub hook unavailable: %s\n", verr.message);
    }
    if (rc != 0) fprintf(stderr, "bench_stages: setup failed: %s (%d)\n", err, rc);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) goto fail;
    buf[n] = '\0';
    *len = (size_t)n;
    fclose(f);
    return buf;
fail:
    free(buf);
    if (f != NULL) fclose(f);
    return NULL;
}

int main(int argc, char **argv)
{
    static struct ctx c;
    struct input in[MAX_INPUTS];
    int n = 0;
    int quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "1") == 0;
    for (int i = 1; i < argc && n < MAX_INPUTS; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "usage: bench_stages LABEL=EVENT.json ...\n");
            return 2;
        }
        *eq = '\0';
        in[n].label = argv[i];
        if ((in[n].json = read_file(eq + 1, &in[n].len)) == NULL) {
            fprintf(stderr, "bench_stages: cannot read %s\n", eq + 1);
            return 1;
        }
        /* about the same wall time for every size */
        in[n].iters = (int)((quick ? 2e6 : 2e7) / (double)in[n].len);
        if (in[n].iters < 200) in[n].iters = 200;
        n++;
    }
    char dir[] = "/tmp/periscope-stages-XXXXXX";
    if (n == 0 || ctx_open(&c, dir) != 0) return 1;

    printf("STAGES {\"sizes\":[");
    for (int i = 0; i < n; i++)
        printf("%s\"%s\"", i ? "," : "", in[i].label);
    printf("],\"bytes\":{");
    for (int i = 0; i < n; i++)
        printf("%s\"%s\":%zu", i ? "," : "", in[i].label, in[i].len);
    printf("},\"stages\":[");
    fprintf(stderr, "%-40s", "µs per event");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%10s", in[i].label);
    fprintf(stderr, "\n");
    for (size_t s = 0; s < sizeof STAGES / sizeof STAGES[0]; s++) {
        printf("%s{\"name\":\"%s\",\"us\":{", s ? "," : "", STAGES[s].name);
        fprintf(stderr, "%-40s", STAGES[s].name);
        for (int i = 0; i < n; i++) {
            int err = 0;
            double us = measure(&c, s, &in[i], &err);
            if (us < 0) {
                printf("%s\"%s\":null", i ? "," : "", in[i].label);
                fprintf(stderr, "%10s", "failed");
            } else {
                printf("%s\"%s\":%.2f", i ? "," : "", in[i].label, us);
                fprintf(stderr, "%10.2f", us);
            }
        }
        printf("}}");
        fprintf(stderr, "\n");
    }
    printf("]}\n");

    script_close(c.script);
    script_close(c.scrub_script);
    grouping_memo_free(c.memo);
    worker_ctx_free(c.worker);
    store_close(c.store);
    if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_stages: could not remove %s\n", dir);
    for (int i = 0; i < n; i++)
        free(in[i].json);
    return 0;
}
