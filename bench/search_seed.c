/* search_seed — fills a Periscope database with ISSUES issues for the
 * search case of `make bench` (issue 19: a query over 100,000 issues
 * answers within 100 ms).
 *
 * Usage: bench_search_seed PROJECT_ID ISSUES
 * Database: from the environment, as `periscope serve` reads it; the
 * project must exist. One event per issue, written through the writer's own
 * batch code (bench/lib/seed.h: issues, issue_hashes, events, and the
 * counts through the counter buffer), with the values the
 * searches look for spread as a real project's would be:
 *   title    "ErrorType<i%50>: failed to process item <i>", culprit
 *            "app.module<i%200>.handler", message with "token<i%1000>"
 *   level    error 70 %, warning 20 %, info 10 %
 *   tags     environment (production 60 %, staging 30 %, dev 10 %), release
 *            "1.<i%20>.0", tenant "t<i%500>", browser (every other issue),
 *            user (id "u<i%5000>", email "user<i%5000>@example.com"),
 *            canary "yes" (a rare tag: one issue in 1,000)
 *   status   every 5th resolved, every 10th (not 5th) ignored
 *   assignee every 20th issue, users 1..10 in turn
 *   seen     spread over the last 30 days
 * Prints "seeded N issues in S s". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lib/seed.h"
#include "base/clock.h"
#include "model/event.h"
#include "model/event_tags.h"
#include "grouping/hash.h"
#include "store/issue_activity.h"
#include "store/issues.h"
#include "store/store.h"

static const char *const ENVIRONMENTS[] = {"production", "production", "production", "production",
                                           "production", "production", "staging",    "staging",
                                           "staging",    "dev"};

static char *text_of(const char *fmt, long i, long j)
{
    char buf[256];
    snprintf(buf, sizeof buf, fmt, i, j);
    return strdup(buf);
}

/* The tags of issue i, as the worker would extract them from its event. */
static struct event_tags *tags_of(long i)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"environment\":\"%s\",\"release\":\"1.%ld.0\",\"user\":{\"id\":\"u%ld\","
             "\"email\":\"user%ld@example.com\"},\"tags\":{\"tenant\":\"t%ld\"%s%s}}",
             ENVIRONMENTS[i % 10], i % 20, i % 5000, i % 5000, i % 500,
             i % 2 ? ",\"browser\":\"Firefox\"" : "", i % 1000 == 7 ? ",\"canary\":\"yes\"" : "");
    cJSON *ev = cJSON_Parse(json);
    struct event_tags *t = NULL;
    if (ev) event_tags_extract(ev, &t);
    cJSON_Delete(ev);
    return t;
}

static struct grouped_event *event_of(long long project, long i, int64_t now)
{
    struct grouped_event *ev = grouped_event_new();
    if (!ev) return NULL;
    ev->project_id = project;
    event_id_generate(ev->event_id);
    char key[48];
    snprintf(key, sizeof key, "search-bench-%ld", i);
    const char *values[] = {key};
    size_t lens[] = {strlen(key)};
    grouping_hash(values, lens, 1, ev->hash);
    ev->title = text_of("ErrorType%ld: failed to process item %ld", i % 50, i);
    ev->culprit = text_of("app.module%ld.handler%.0ld", i % 200, 0); /* second value unused */
    ev->message = text_of("failed to process item %ld (token%ld) after retries", i, i % 1000);
    ev->level = i % 10 < 7 ? "error" : i % 10 < 9 ? "warning" : "info";
    ev->environment = strdup(ENVIRONMENTS[i % 10]);
    ev->release = text_of("1.%ld.0%.0ld", i % 20, 0); /* second value unused */
    ev->timestamp_ms = now - (int64_t)(i * 7919 % (30 * 86400)) * 1000;
    ev->received_at_ms = ev->timestamp_ms;
    ev->tags = tags_of(i);
    ev->payload = strdup("{}");
    ev->payload_len = 2;
    if (!ev->title || !ev->culprit || !ev->message || !ev->environment || !ev->release ||
        !ev->payload) {
        grouped_event_free(ev);
        return NULL;
    }
    return ev;
}

/* Statuses and assignees, by issue id order (ids follow i). */
static int triage(struct db *db, long long project, int64_t first_id, long issues)
{
    int64_t ids[ISSUES_BULK_MAX], updated;
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        const char *status = pass == 0 ? "resolved" : "ignored";
        size_t n = 0;
        for (long i = 0; i < issues && rc == 0; i++) {
            bool pick = pass == 0 ? i % 5 == 0 : i % 10 == 5;
            if (pick) ids[n++] = first_id + i;
            if (n == ISSUES_BULK_MAX || (i == issues - 1 && n > 0)) {
                rc = issues_set_status_bulk(db, project, ids, n, status, &updated);
                n = 0;
            }
        }
    }
    for (long i = 3; i < issues && rc == 0; i += 20)
        rc = issue_assign(db, project, first_id + i, 1 + (i / 20) % 10, 0, clock_wall_ms());
    return rc;
}

struct seed_ctx {
    long long project;
    int64_t now;
};

static struct grouped_event *seed_event(void *ctx, long i)
{
    const struct seed_ctx *c = ctx;
    return event_of(c->project, i, c->now);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_search_seed PROJECT_ID ISSUES\n");
        return 2;
    }
    struct seed_ctx c = {.project = atoll(argv[1]), .now = clock_wall_ms()};
    long issues = atol(argv[2]);
    if (c.project < 1 || issues < 1) {
        fprintf(stderr, "bench_search_seed: PROJECT_ID and ISSUES must be positive\n");
        return 2;
    }
    static struct seeder s;
    int64_t first_id = 0;
    long done_n = 0;
    double t0 = seed_clock();
    int rc = seeder_open(&s, "bench_search_seed");
    if (rc == 0) rc = seeder_run(&s, issues, seed_event, &c, &first_id, &done_n);
    if (rc == 0) rc = triage(store_writer(s.st), c.project, first_id, issues);
    if (rc == 0) seeder_report(&s, done_n, "issues", seed_clock() - t0);
    seeder_close(&s);
    return rc == 0 ? 0 : 1;
}
