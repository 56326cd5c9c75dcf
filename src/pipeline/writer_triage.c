/* writer_triage — batch state, alert routing and the release check of a
 * resolved issue (see writer_triage.h); the after-count phases are in
 * writer_triage_flush.c. */
#include "pipeline/writer_triage_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"

#include "base/hll.h"
#include "base/semver.h"
#include "model/event.h"
#include "model/event_tags.h"
#include "base/log.h"
#include "model/alert_rules.h"
#include "store/triage_read.h"
#include "store/triage_write.h"

struct writer_triage *writer_triage_new(size_t batch_max, writer_triage_sink sink, void *sink_ctx)
{
    struct writer_triage *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    size_t slots = 16;
    while (slots < batch_max * 2)
        slots <<= 1;
    t->batch_max = batch_max;
    t->sink = sink;
    t->sink_ctx = sink_ctx;
    t->mask = slots - 1;
    t->issues = calloc(batch_max, sizeof(*t->issues));
    t->slots = calloc(slots, sizeof(*t->slots));
    t->users = calloc(batch_max, sizeof(*t->users));
    t->releases = calloc(batch_max, sizeof(*t->releases));
    t->rules = calloc(batch_max, sizeof(*t->rules));
    if (!t->issues || !t->slots || !t->users || !t->releases || !t->rules) {
        writer_triage_free(t);
        return NULL;
    }
    return t;
}

void writer_triage_reset(struct writer_triage *t)
{
    for (size_t i = 0; i < t->nissues; i++) {
        free(t->issues[i].res_kind);
        free(t->issues[i].res_version);
        free(t->issues[i].res_after);
    }
    for (size_t i = 0; i < t->nrules; i++)
        alert_rules_free(t->rules[i].rules);
    memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
    t->nissues = t->nusers = t->nreleases = t->nrules = 0;
}

void writer_triage_free(struct writer_triage *t)
{
    if (!t) return;
    if (t->issues && t->slots && t->rules) writer_triage_reset(t);
    free(t->issues);
    free(t->slots);
    free(t->users);
    free(t->releases);
    free(t->rules);
    free(t);
}

/* The batch's entry for issue_id, created empty when add (NULL when not
 * there and !add, or the table is full). */
static struct triage_issue *issue_entry(struct writer_triage *t, int64_t issue_id, bool add)
{
    uint64_t h = (uint64_t)issue_id * 0x9e3779b97f4a7c15ULL;
    for (size_t s = (size_t)(h ^ h >> 29) & t->mask;; s = (s + 1) & t->mask) {
        uint32_t k = t->slots[s];
        if (k == 0) {
            if (!add || t->nissues == t->batch_max) return NULL;
            struct triage_issue *it = &t->issues[t->nissues];
            memset(it, 0, sizeof(*it));
            it->issue_id = issue_id;
            t->slots[s] = (uint32_t)++t->nissues;
            return it;
        }
        if (t->issues[k - 1].issue_id == issue_id) return &t->issues[k - 1];
    }
}

static struct alert_rules *load_rules(struct db *db, int64_t project_id)
{
    char *text = NULL;
    int rc = alert_rules_load(db, project_id, &text);
    if (rc != 0) {
        if (rc != -ENOENT)
            log_warn("alert rules not read, default rules used", "project=%lld",
                     (long long)project_id);
        return alert_rules_default();
    }
    cJSON *doc = json_parse_text(text);
    free(text);
    struct alert_rules *rules = NULL;
    char err[200];
    if (!doc || alert_rules_parse(doc, &rules, err, sizeof err) != 0) {
        log_warn("stored alert rules invalid, default rules used", "project=%lld",
                 (long long)project_id);
        rules = alert_rules_default();
    }
    cJSON_Delete(doc);
    return rules;
}

const struct alert_rules *triage_rules_for(struct writer_triage *t, struct db *db,
                                           int64_t project_id)
{
    for (size_t i = 0; i < t->nrules; i++)
        if (t->rules[i].project_id == project_id) return t->rules[i].rules;
    struct alert_rules *rules = load_rules(db, project_id);
    if (!rules) return NULL;
    if (t->nrules == t->batch_max) {
        alert_rules_free(t->rules[0].rules); /* cannot happen: one project per event */
        t->rules[0] = t->rules[--t->nrules];
    }
    t->rules[t->nrules].project_id = project_id;
    t->rules[t->nrules++].rules = rules;
    return rules;
}

/* Adds the rule's destinations to dest (deduplicated, at most cap). */
static void add_destinations(const struct alert_rule *r, int64_t *dest, size_t *n, size_t cap)
{
    for (size_t i = 0; i < r->ndestinations; i++) {
        bool known = false;
        for (size_t j = 0; j < *n && !known; j++)
            known = dest[j] == r->destinations[i];
        if (!known && *n < cap) dest[(*n)++] = r->destinations[i];
    }
}

int triage_raise(struct writer_triage *t, struct db *db, int64_t issue_id, const char *kind,
                 const struct grouped_event *ev, const struct alert_rule *only, int64_t now_ms)
{
    const struct alert_rules *rules = triage_rules_for(t, db, ev->project_id);
    if (!rules) return -ENOMEM;
    unsigned k = alert_kind_from_name(kind);
    int64_t dest[ALERT_RULES_MAX * ALERT_RULE_LIST_MAX / 8];
    size_t ndest = 0;
    bool all = false;
    for (size_t i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rule[i];
        if (only ? r != only : !alert_rule_matches(r, k, ev->level, ev->environment, ev->tags))
            continue;
        if (!only && r->throttle_minutes > 0) {
            int fired = triage_write_rule_fire(db, ev->project_id, r->name, issue_id, now_ms, 0,
                                               (int64_t)r->throttle_minutes * 60000);
            if (fired < 0) return fired;
            if (fired == 0) continue; /* throttled */
        }
        all |= r->all_destinations;
        add_destinations(r, dest, &ndest, sizeof(dest) / sizeof(dest[0]));
    }
    int64_t alert_id;
    int rc = triage_write_alert(db, ev->project_id, issue_id, kind, ev->event_id, now_ms, all, dest,
                                ndest, &alert_id);
    if (rc != 0) return rc;
    return t->sink(t->sink_ctx, alert_id, ev->project_id, issue_id, kind);
}

int writer_triage_alert(struct writer_triage *t, struct db *db, int64_t issue_id, const char *kind,
                        const struct grouped_event *ev, int64_t now_ms)
{
    return triage_raise(t, db, issue_id, kind, ev, NULL, now_ms);
}

/* a compared with b: semver when both parse (same package), else the order
 * the project first saw them. */
static int release_cmp(struct db *db, int64_t project_id, const char *a, const char *b, int *cmp)
{
    if (semver_compare(a, b, cmp) == 0) return 0;
    return triage_write_release_order(db, project_id, a, b, cmp);
}

int writer_triage_may_reopen(struct writer_triage *t, struct db *db, int64_t issue_id,
                             const struct grouped_event *ev)
{
    struct triage_issue *it = issue_entry(t, issue_id, true);
    if (!it) return 1;
    it->project_id = ev->project_id;
    if (!it->resolution_read) {
        int rc = triage_write_resolution_get(db, issue_id, &it->res_kind, &it->res_version,
                                             &it->res_after);
        if (rc != 0 && rc != -ENOENT) return rc;
        it->resolution_read = true;
    }
    if (!it->res_kind) return 1;
    if (!ev->release) return 0; /* no release: it cannot be from the fixed one */
    int cmp = 0, rc;
    if (strcmp(it->res_kind, "next_release") == 0) {
        if (!it->res_after) return 1;
        rc = release_cmp(db, ev->project_id, ev->release, it->res_after, &cmp);
        return rc < 0 ? rc : cmp > 0;
    }
    if (!it->res_version) return 1;
    rc = release_cmp(db, ev->project_id, ev->release, it->res_version, &cmp);
    return rc < 0 ? rc : cmp >= 0;
}

static void add_release(struct writer_triage *t, const struct grouped_event *ev, bool first_of_new)
{
    struct triage_release *r = NULL;
    for (size_t i = 0; i < t->nreleases && !r; i++)
        if (t->releases[i].project_id == ev->project_id &&
            strcmp(t->releases[i].version, ev->release) == 0)
            r = &t->releases[i];
    if (!r) {
        if (t->nreleases == t->batch_max) return;
        r = &t->releases[t->nreleases++];
        memset(r, 0, sizeof(*r));
        r->project_id = ev->project_id;
        r->version = ev->release;
        r->first_ms = r->last_ms = ev->timestamp_ms;
    }
    r->events++;
    r->new_issues += first_of_new;
    if (ev->timestamp_ms < r->first_ms) r->first_ms = ev->timestamp_ms;
    if (ev->timestamp_ms > r->last_ms) r->last_ms = ev->timestamp_ms;
}

static const char *user_key(const struct event_tags *tags)
{
    for (size_t i = 0; tags && i < tags->n; i++)
        if (strcmp(tags->tag[i].key, "user") == 0) return tags->tag[i].value;
    return NULL;
}

int writer_triage_event(struct writer_triage *t, int64_t issue_id, bool created, bool ignored,
                        const struct grouped_event *ev)
{
    struct triage_issue *it = issue_entry(t, issue_id, true);
    if (!it) return -ENOSPC;
    bool first = it->events == 0;
    it->project_id = ev->project_id;
    it->last_ev = ev;
    it->ignored |= ignored;
    it->created |= created;
    it->events++;
    if (ev->release) {
        if (!it->first_release) it->first_release = ev->release;
        it->last_release = ev->release;
        add_release(t, ev, created && first);
    }
    const char *user = user_key(ev->tags);
    if (user && t->nusers < t->batch_max) {
        t->users[t->nusers].issue = (uint32_t)(it - t->issues);
        t->users[t->nusers++].hash = hll_hash(user, strlen(user));
    }
    return 0;
}
