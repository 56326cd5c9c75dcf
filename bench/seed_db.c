/* seed_db — fills a Periscope database with many events fast, for the
 * "database already holds a million events" case of `make bench`.
 *
 * Usage: bench_seed_db PROJECT_ID COUNT ISSUES EVENT.json [distinct]
 * Database: from the environment, as `periscope serve` reads it (DATA_DIR,
 * SQLITE_PATH, POSTGRES_*); the project must exist. The event JSON goes
 * once through the real worker (normalize, Lua grouping, zstd level 1); every
 * seeded event is a copy of it with a fresh random event_id, spread over
 * ISSUES issues, written through the writer's own batch code
 * (bench/lib/seed.h: writer_batch_write in transactions of SEED_BATCH
 * events, the store in bulk-load mode) — the same rows, indexes and payload
 * sizes the server writes, without HTTP and grouping in the way. The counts
 * go through the writer's counter buffer and flush (store/counters.h), so
 * the flush mark ends past every seeded event.
 *
 * With "distinct" (the 1,000,000-issue case) event k is the template with
 * its issue number (bench/gen_events.py's hole, "000042" in EVENT.json)
 * set to k: the issues are the very ones bench/load.lua's requests for
 * issue numbers 0..COUNT-1 group into. Running the worker (Lua grouping)
 * for each of a million events cost ~230 µs of CPU apiece, more than the
 * writer; the hash is instead computed from the template's grouping
 * components with the number set (fast_event), after a sample of issue
 * numbers has been checked to give the worker's own hash and title (else
 * every event goes through the worker, as before).
 * Prints "seeded N events in S s (making events M s, database D s)". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lib/seed.h"
#include "base/clock.h"
#include "base/compress.h"
#include "grouping/hash.h"
#include "lua/script.h"
#include "lua/vm.h"
#include "model/event.h"
#include "model/event_tags.h"
#include "model/normalize.h"
#include "store/store.h"
#include "pipeline/pipeline.h"
#include "pipeline/worker.h"

/* The template's issue number (gen_events.py fills the hole with it). */
static const char ISSUE_HOLE[] = "000042";

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A copy of tpl (owned fields duplicated) with a new id under issue i. */
static struct grouped_event *clone_event(const struct grouped_event *tpl, long issue)
{
    struct grouped_event *ev = grouped_event_new();
    if (ev == NULL) return NULL;
    ev->project_id = tpl->project_id;
    event_id_generate(ev->event_id);
    ev->received_at_ms = tpl->received_at_ms;
    memcpy(ev->hash, tpl->hash, sizeof ev->hash);
    snprintf(ev->hash + 24, 9, "%08lx", issue); /* ISSUES distinct hashes */
    ev->title = dup_or_null(tpl->title);
    ev->culprit = dup_or_null(tpl->culprit);
    ev->level = tpl->level;
    ev->environment = dup_or_null(tpl->environment);
    ev->release = dup_or_null(tpl->release);
    ev->timestamp_ms = tpl->timestamp_ms;
    ev->payload = malloc(tpl->payload_len);
    ev->payload_len = tpl->payload_len;
    if (ev->title == NULL || ev->culprit == NULL || ev->payload == NULL) {
        grouped_event_free(ev);
        return NULL;
    }
    memcpy(ev->payload, tpl->payload, tpl->payload_len);
    return ev;
}

/* The event of text (len bytes) through the real worker, or NULL. */
static struct grouped_event *worker_event(struct worker_ctx *w, const char *text, size_t len,
                                          long long project_id)
{
    struct raw_event *raw = raw_event_new();
    struct grouped_event *ev = NULL;
    if (raw == NULL || (raw->json = cJSON_ParseWithLength(text, len)) == NULL ||
        worker_process(w, raw, &ev) != 0) {
        raw_event_free(raw);
        return NULL;
    }
    raw_event_free(raw);
    ev->project_id = project_id;
    ev->received_at_ms = clock_wall_ms();
    return ev;
}

static char template_text[1 << 20];
static size_t template_len;

static int read_template(const char *path)
{
    FILE *f = fopen(path, "rb");
    template_len = f ? fread(template_text, 1, sizeof template_text - 1, f) : 0;
    if (f) fclose(f);
    return template_len > 0 ? 0 : -EIO;
}

/* The template with every issue hole set to issue k, through the worker. */
static struct grouped_event *distinct_event(struct worker_ctx *w, long k, long long project_id)
{
    static char text[sizeof template_text];
    memcpy(text, template_text, template_len + 1);
    char num[8];
    snprintf(num, sizeof num, "%06ld", k % 1000000);
    for (char *p = strstr(text, ISSUE_HOLE); p; p = strstr(p + 6, ISSUE_HOLE))
        memcpy(p, num, 6);
    struct grouped_event *ev = worker_event(w, text, template_len, project_id);
    if (ev) event_id_generate(ev->event_id); /* the template's own id is one */
    return ev;
}

/* The hole of text (if any) set to num: a new string, or NULL. */
static char *with_issue(const char *text, const char *num)
{
    if (text == NULL) return NULL;
    char *out = strdup(text);
    for (char *p = out ? strstr(out, ISSUE_HOLE) : NULL; p; p = strstr(p + 6, ISSUE_HOLE))
        memcpy(p, num, 6);
    return out;
}

/* A copy of a tags block (one allocation, pointers into itself). */
static struct event_tags *tags_dup(const struct event_tags *t)
{
    if (t == NULL) return NULL;
    const char *base = (const char *)t, *end = (const char *)&t->tag[t->n];
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->tag[i].key + strlen(t->tag[i].key) + 1;
        const char *v = t->tag[i].value + strlen(t->tag[i].value) + 1;
        if (k > end) end = k;
        if (v > end) end = v;
    }
    struct event_tags *c = malloc((size_t)(end - base));
    if (c == NULL) return NULL;
    memcpy(c, t, (size_t)(end - base));
    for (size_t i = 0; i < t->n; i++) {
        c->tag[i].key = (const char *)c + (t->tag[i].key - base);
        c->tag[i].value = (const char *)c + (t->tag[i].value - base);
    }
    return c;
}

/* "distinct" without the worker per event. The grouping hash is the MD5
 * of the grouping components fed in order (grouping/hash.h), and the
 * template's issue number sits in its exception type, one of them: with
 * the template's components (the default grouping, run once) the hash of
 * issue k is the MD5 of those components with the hole set to k. Checked
 * against the worker on a sample before it is used (fast_check); the
 * other fields are the template's, with the hole set in its texts and the
 * payload compressed from the template text with the hole set. */
struct fast_grouping {
    char **components;
    size_t n;
    bool usable;
};

static int fast_open(struct fast_grouping *f, const struct config *cfg)
{
    struct vm_limits lim;
    vm_limits_from_config(cfg, &lim);
    struct script *s = NULL;
    struct vm_error verr;
    struct grouped_event *ev = grouped_event_new();
    cJSON *json = NULL;
    struct script_result res = {0};
    int rc = ev ? script_open(&lim, NULL, 0, &s, &verr) : -ENOMEM;
    if (rc == 0 && (json = cJSON_ParseWithLength(template_text, template_len)) == NULL)
        rc = -EINVAL;
    if (rc == 0) rc = normalize_event(json, ev);
    if (rc == 0) rc = script_run(s, json, true, &res);
    if (rc == 0) {
        f->components = res.components;
        f->n = res.ncomponents;
        res.components = NULL;
        res.ncomponents = 0;
    }
    script_result_clear(&res);
    script_close(s);
    cJSON_Delete(json);
    grouped_event_free(ev);
    return rc;
}

static void fast_close(struct fast_grouping *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->components[i]);
    free(f->components);
}

static int fast_hash(const struct fast_grouping *f, const char *num, char out[33])
{
    enum { MAX_COMPONENTS = 256 };
    if (f->n > MAX_COMPONENTS) return -E2BIG;
    const char *values[MAX_COMPONENTS];
    size_t lens[MAX_COMPONENTS];
    char *owned[MAX_COMPONENTS];
    for (size_t i = 0; i < f->n; i++) {
        owned[i] = strstr(f->components[i], ISSUE_HOLE) ? with_issue(f->components[i], num) : NULL;
        values[i] = owned[i] ? owned[i] : f->components[i];
        lens[i] = strlen(values[i]);
    }
    int rc = grouping_hash(values, lens, f->n, out);
    for (size_t i = 0; i < f->n; i++)
        free(owned[i]);
    return rc;
}

static struct grouped_event *fast_event(const struct fast_grouping *f,
                                        const struct grouped_event *tpl, long k)
{
    char num[8];
    snprintf(num, sizeof num, "%06ld", k % 1000000);
    static char text[sizeof template_text];
    memcpy(text, template_text, template_len + 1);
    for (char *p = strstr(text, ISSUE_HOLE); p; p = strstr(p + 6, ISSUE_HOLE))
        memcpy(p, num, 6);
    struct grouped_event *ev = grouped_event_new();
    if (ev == NULL) return NULL;
    ev->project_id = tpl->project_id;
    event_id_generate(ev->event_id);
    ev->received_at_ms = tpl->received_at_ms;
    ev->timestamp_ms = tpl->timestamp_ms;
    ev->level = tpl->level;
    ev->title = with_issue(tpl->title, num);
    ev->culprit = with_issue(tpl->culprit, num);
    ev->message = with_issue(tpl->message, num);
    ev->environment = with_issue(tpl->environment, num);
    ev->release = with_issue(tpl->release, num);
    ev->tags = tags_dup(tpl->tags);
    if (ev->title == NULL || ev->culprit == NULL || (tpl->tags && ev->tags == NULL) ||
        fast_hash(f, num, ev->hash) != 0 ||
        compress_payload(text, template_len, &ev->payload, &ev->payload_len) != 0) {
        grouped_event_free(ev);
        return NULL;
    }
    return ev;
}

/* The fast path gives the worker's hash and title for a sample of issues. */
static bool fast_check(const struct fast_grouping *f, struct worker_ctx *w,
                       const struct grouped_event *tpl, long issues)
{
    const long sample[] = {0, 1, 42, 999, issues / 2, issues - 1};
    for (size_t i = 0; i < sizeof sample / sizeof *sample; i++) {
        struct grouped_event *slow = distinct_event(w, sample[i], tpl->project_id);
        struct grouped_event *fast = fast_event(f, tpl, sample[i]);
        bool same = slow && fast && strcmp(slow->hash, fast->hash) == 0 &&
                    strcmp(slow->title, fast->title) == 0 &&
                    strcmp(slow->culprit, fast->culprit) == 0;
        grouped_event_free(slow);
        grouped_event_free(fast);
        if (!same) return false;
    }
    return true;
}

struct seed_ctx {
    struct worker_ctx *w;
    const struct grouped_event *tpl;
    struct fast_grouping fast;
    long long project;
    long issues;
    bool distinct;
};

static struct grouped_event *seed_event(void *ctx, long k)
{
    struct seed_ctx *c = ctx;
    if (!c->distinct) return clone_event(c->tpl, random() % c->issues);
    if (c->fast.usable) return fast_event(&c->fast, c->tpl, k % c->issues);
    return distinct_event(c->w, k % c->issues, c->project);
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "distinct") == 0)) {
        fprintf(stderr, "usage: bench_seed_db PROJECT_ID COUNT ISSUES EVENT.json [distinct]\n");
        return 2;
    }
    struct seed_ctx c = {.project = atoll(argv[1]), .issues = atol(argv[3]), .distinct = argc == 6};
    long count = atol(argv[2]);
    if (c.project < 1 || count < 1 || c.issues < 1) {
        fprintf(stderr, "bench_seed_db: PROJECT_ID, COUNT and ISSUES must be positive\n");
        return 2;
    }
    static struct seeder s;
    struct grouped_event *tpl = NULL;
    int rc = read_template(argv[4]) == 0 ? seeder_open(&s, "bench_seed_db") : -EIO;
    /* No script registry: the default rules, in Lua as the server runs
     * them, so that "distinct" events group as the server's do. */
    struct pipeline_deps deps = {.cfg = &s.cfg};
    if (rc == 0) rc = worker_ctx_new(&deps, &c.w);
    if (rc == 0 && (tpl = worker_event(c.w, template_text, template_len, c.project)) == NULL) {
        fprintf(stderr, "bench_seed_db: the template did not go through the worker\n");
        rc = -EINVAL;
    }
    c.tpl = tpl;
    if (rc == 0 && c.distinct) {
        c.fast.usable = fast_open(&c.fast, &s.cfg) == 0 && fast_check(&c.fast, c.w, tpl, c.issues);
        if (!c.fast.usable)
            fprintf(stderr, "bench_seed_db: the grouping components do not carry the issue"
                            " number; every event goes through the worker\n");
    }
    long done_n = 0;
    double t0 = seed_clock();
    if (rc == 0) rc = seeder_run(&s, count, seed_event, &c, NULL, &done_n);
    seeder_report(&s, done_n, "events", seed_clock() - t0);
    seeder_close(&s);
    worker_ctx_free(c.w);
    fast_close(&c.fast);
    grouped_event_free(tpl);
    return rc == 0 ? 0 : 1;
}
