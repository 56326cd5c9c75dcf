/* writer_batch — see writer_batch.h. */
#include "pipeline/writer_batch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/alert.h"
#include "model/event.h"
#include "pipeline/writer_triage.h"
#include "store/counters.h"
#include "store/events_write.h"
#include "store/issue_hashes.h"

/* One distinct issue of the batch. */
struct batch_issue {
    int64_t project_id;
    const char *hash; /* borrowed from an event of the batch */
    int64_t id;       /* 0: no issue row (yet) */
    enum issue_status status;
    bool looked_up;
    bool created; /* inserted by this transaction */
    bool reopen_checked;
    int64_t stored;  /* events stored on it in this batch */
    size_t first_ev; /* index in the batch of its first event */
};

struct writer_batch {
    size_t batch_max;
    struct batch_issue *issues;
    size_t nissues;
    uint32_t *slots; /* open addressing: index + 1 into issues, 0 empty */
    size_t mask;
    struct alert_msg **alerts;
    size_t nalerts, alerts_cap;
    struct writer_triage *triage; /* releases, users, snoozes, alert rules */
    /* Per event of the batch: its issue, that issue's id, whether stored. */
    uint32_t *ev_issue;
    int64_t *ev_issue_id;
    bool *ev_inserted;
    enum writer_event_outcome *ev_outcome;
    struct events_write_new_issue *creating; /* phase 1b: issues to create */
    struct event_row *creating_rows;         /* their first events' rows */
    uint32_t *creating_issue;                /* and their index in issues */
};

static int take_alert(void *ctx, int64_t alert_id, int64_t project_id, int64_t issue_id,
                      const char *kind);

/* The store's row of a grouped event (borrowing its strings). */
static void row_of(const struct grouped_event *ev, struct event_row *row)
{
    *row = (struct event_row){.project_id = ev->project_id,
                              .received_at_ms = ev->received_at_ms,
                              .timestamp_ms = ev->timestamp_ms,
                              .hash = ev->hash,
                              .title = ev->title,
                              .culprit = ev->culprit,
                              .level = ev->level,
                              .environment = ev->environment,
                              .release = ev->release,
                              .message = ev->message,
                              .payload = ev->payload,
                              .payload_len = ev->payload_len};
    memcpy(row->event_id, ev->event_id, sizeof row->event_id);
}

struct writer_batch *writer_batch_new(size_t batch_max)
{
    struct writer_batch *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    size_t slots = 16;
    while (slots < batch_max * 2)
        slots <<= 1;
    b->batch_max = batch_max;
    b->mask = slots - 1;
    b->issues = calloc(batch_max, sizeof(*b->issues));
    b->slots = calloc(slots, sizeof(*b->slots));
    b->alerts_cap = batch_max;
    b->alerts = calloc(b->alerts_cap, sizeof(*b->alerts));
    b->triage = writer_triage_new(batch_max, take_alert, b);
    b->ev_issue = calloc(batch_max, sizeof(*b->ev_issue));
    b->ev_issue_id = calloc(batch_max, sizeof(*b->ev_issue_id));
    b->ev_inserted = calloc(batch_max, sizeof(*b->ev_inserted));
    b->ev_outcome = calloc(batch_max, sizeof(*b->ev_outcome));
    b->creating = calloc(batch_max, sizeof(*b->creating));
    b->creating_rows = calloc(batch_max, sizeof(*b->creating_rows));
    b->creating_issue = calloc(batch_max, sizeof(*b->creating_issue));
    if (!b->issues || !b->slots || !b->alerts || !b->ev_issue || !b->ev_issue_id ||
        !b->ev_inserted || !b->ev_outcome || !b->creating || !b->creating_rows ||
        !b->creating_issue || !b->triage) {
        writer_batch_free(b);
        return NULL;
    }
    return b;
}

void writer_batch_discard(struct writer_batch *b)
{
    for (size_t i = 0; i < b->nalerts; i++)
        free(b->alerts[i]);
    b->nalerts = 0;
}

void writer_batch_take_alerts(struct writer_batch *b)
{
    b->nalerts = 0;
}

void writer_batch_free(struct writer_batch *b)
{
    if (!b) return;
    if (b->alerts) writer_batch_discard(b);
    free(b->issues);
    free(b->slots);
    free(b->alerts);
    writer_triage_free(b->triage);
    free(b->ev_issue);
    free(b->ev_issue_id);
    free(b->ev_inserted);
    free(b->ev_outcome);
    free(b->creating);
    free(b->creating_rows);
    free(b->creating_issue);
    free(b);
}

/* writer_triage_sink: keeps the message of an alert the batch raised. */
static int take_alert(void *ctx, int64_t alert_id, int64_t project_id, int64_t issue_id,
                      const char *kind)
{
    struct writer_batch *b = ctx;
    if (b->nalerts == b->alerts_cap) {
        struct alert_msg **more = realloc(b->alerts, 2 * b->alerts_cap * sizeof(*more));
        if (!more) return -ENOMEM;
        b->alerts = more;
        b->alerts_cap *= 2;
    }
    struct alert_msg *m = calloc(1, sizeof(*m));
    if (!m) return -ENOMEM;
    m->alert_id = alert_id;
    m->project_id = project_id;
    m->issue_id = issue_id;
    snprintf(m->kind, sizeof(m->kind), "%s", kind);
    b->alerts[b->nalerts++] = m;
    return 0;
}

static size_t slot_of(int64_t project_id, const char *hash)
{
    /* The hash is MD5 hex already: its first 16 digits are well mixed. */
    uint64_t h = (uint64_t)project_id * 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 16 && hash[i]; i++)
        h = (h << 4 | h >> 60) ^ (unsigned char)hash[i];
    return (size_t)(h ^ h >> 29);
}

static struct batch_issue *issue_for(struct writer_batch *b, const struct grouped_event *ev,
                                     size_t ev_index)
{
    for (size_t s = slot_of(ev->project_id, ev->hash) & b->mask;; s = (s + 1) & b->mask) {
        uint32_t k = b->slots[s];
        if (k == 0) {
            struct batch_issue *it = &b->issues[b->nissues];
            memset(it, 0, sizeof(*it));
            it->project_id = ev->project_id;
            it->hash = ev->hash;
            it->first_ev = ev_index;
            b->slots[s] = (uint32_t)++b->nissues;
            return it;
        }
        struct batch_issue *it = &b->issues[k - 1];
        if (it->project_id == ev->project_id && strcmp(it->hash, ev->hash) == 0) return it;
    }
}

static int add_alert(struct writer_batch *b, struct db *db, const struct batch_issue *it,
                     const char *kind, const struct grouped_event *ev, int64_t now_ms)
{
    /* The project's alert rules route it (writer_triage.h). */
    return writer_triage_alert(b->triage, db, it->id, kind, ev, now_ms);
}

/* Looks up the issues of one chunk and records what it found. */
static int find_chunk(struct db *db, int64_t project_id, struct batch_issue **chunk, size_t n)
{
    const char *hashes[EVENTS_WRITE_FIND_CHUNK];
    int64_t ids[EVENTS_WRITE_FIND_CHUNK];
    enum issue_status status[EVENTS_WRITE_FIND_CHUNK];
    for (size_t k = 0; k < n; k++)
        hashes[k] = chunk[k]->hash;
    int rc = events_write_issue_find_chunk(db, project_id, hashes, n, ids, status);
    for (size_t k = 0; k < n && rc == 0; k++) {
        chunk[k]->id = ids[k];
        chunk[k]->status = status[k];
    }
    return rc;
}

/* Looks up the not yet looked-up issues of the project of issue first, from
 * there on, EVENTS_WRITE_FIND_CHUNK per statement. */
static int find_project_issues(struct writer_batch *b, struct db *db, size_t first)
{
    int64_t project_id = b->issues[first].project_id;
    struct batch_issue *chunk[EVENTS_WRITE_FIND_CHUNK];
    size_t n = 0;
    int rc = 0;
    for (size_t i = first; i < b->nissues && rc == 0; i++) {
        struct batch_issue *it = &b->issues[i];
        if (it->looked_up || it->project_id != project_id) continue;
        it->looked_up = true;
        chunk[n++] = it;
        if (n == EVENTS_WRITE_FIND_CHUNK) {
            rc = find_chunk(db, project_id, chunk, n);
            n = 0;
        }
    }
    if (rc == 0 && n > 0) rc = find_chunk(db, project_id, chunk, n);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Phase 0: the batch's projects locked against merges (issue_hashes.h),
 * in ascending order. */
static int lock_projects(struct writer_batch *b, struct db *db)
{
    int64_t *ids = (int64_t *)b->ev_issue_id; /* free until phase 1b */
    for (size_t i = 0; i < b->nissues; i++)
        ids[i] = b->issues[i].project_id;
    qsort(ids, b->nissues, sizeof *ids, cmp_id);
    return issue_hashes_lock_shared(db, ids, b->nissues);
}

/* Phase 1a: every issue of the batch looked up, project by project (one
 * scan of the issue table per distinct project; batches hold few). */
static int find_issues(struct writer_batch *b, struct db *db)
{
    int rc = 0;
    for (size_t i = 0; i < b->nissues && rc == 0; i++)
        if (!b->issues[i].looked_up) rc = find_project_issues(b, db, i);
    return rc;
}

/* Phase 1b: every issue of the batch names an issue row: a grouping
 * transition's issue takes the new hash (issue_hashes_attach), the others
 * missing are created from their first event all at once
 * (events_write_issues_create: on SQLite one write of the search index
 * for the batch instead of one per issue), and one another transaction
 * created meanwhile is looked up again. */
static int ensure_issues(struct writer_batch *b, struct db *db, struct grouped_event **evs)
{
    size_t ncreate = 0;
    int rc = 0;
    for (size_t i = 0; i < b->nissues && rc == 0; i++) {
        struct batch_issue *it = &b->issues[i];
        if (it->id != 0) continue;
        const struct grouped_event *ev = evs[it->first_ev];
        if (ev->prev_hash[0]) { /* a grouping transition: the previous hash's issue, if any */
            rc = issue_hashes_attach(db, it->project_id, it->hash, ev->prev_hash,
                                     ev->received_at_ms, &it->id, &it->status);
            if (rc != -ENOENT) continue;
            rc = 0;
        }
        row_of(ev, &b->creating_rows[ncreate]);
        b->creating[ncreate] = (struct events_write_new_issue){.ev = &b->creating_rows[ncreate]};
        b->creating_issue[ncreate++] = (uint32_t)i;
    }
    if (rc == 0) rc = events_write_issues_create(db, b->creating, ncreate);
    for (size_t k = 0; k < ncreate && rc == 0; k++) {
        struct batch_issue *it = &b->issues[b->creating_issue[k]];
        it->id = b->creating[k].id;
        it->status = ISSUE_UNRESOLVED;
        it->created = it->id != 0;
        /* Another node created it between our lookup and insert. */
        if (it->id == 0)
            rc = events_write_issue_find(db, it->project_id, it->hash, &it->id, &it->status);
    }
    return rc;
}

/* Alerts for the first event stored on an issue in this batch. */
static int raise_alerts(struct writer_batch *b, struct db *db, struct batch_issue *it,
                        const struct grouped_event *ev, int64_t now_ms)
{
    if (it->created && it->stored == 1) return add_alert(b, db, it, "new", ev, now_ms);
    if (it->status != ISSUE_RESOLVED || it->reopen_checked) return 0;
    /* Resolved in a release: an event of an older one only counts. */
    int rc = writer_triage_may_reopen(b->triage, db, it->id, ev);
    if (rc <= 0) return rc;
    it->reopen_checked = true;
    rc = events_write_issue_reopen(db, it->id);
    if (rc <= 0) return rc;
    it->status = ISSUE_UNRESOLVED;
    return add_alert(b, db, it, "regression", ev, now_ms);
}

/* Phase 2: insert the events, EVENTS_WRITE_CHUNK at a time, then singly. */
static int insert_events(struct writer_batch *b, struct db *db, struct grouped_event **evs,
                         size_t n)
{
    size_t i = 0;
    int rc = 0;
    struct event_row rows[EVENTS_WRITE_CHUNK];
    for (; n - i >= EVENTS_WRITE_CHUNK && rc == 0; i += EVENTS_WRITE_CHUNK) {
        for (size_t k = 0; k < EVENTS_WRITE_CHUNK; k++)
            row_of(evs[i + k], &rows[k]);
        rc = events_write_event_insert_chunk(db, rows, b->ev_issue_id + i, b->ev_inserted + i);
    }
    for (; i < n && rc == 0; i++) {
        row_of(evs[i], &rows[0]);
        rc = events_write_event_insert(db, &rows[0], b->ev_issue_id[i]);
        b->ev_inserted[i] = rc == 1;
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

/* Phase 3, in event order: counts and the alerts of first stored events. */
static int account_events(struct writer_batch *b, struct db *db, struct grouped_event **evs,
                          size_t n, int64_t now_ms, struct writer_batch_result *res)
{
    for (size_t i = 0; i < n; i++) {
        b->ev_outcome[i] = WRITER_EVENT_DUPLICATE;
        if (!b->ev_inserted[i]) {
            res->duplicates++;
            continue;
        }
        struct batch_issue *it = &b->issues[b->ev_issue[i]];
        res->stored++;
        it->stored++;
        bool resolved = it->status == ISSUE_RESOLVED;
        int rc = raise_alerts(b, db, it, evs[i], now_ms);
        if (rc == 0)
            rc = writer_triage_event(b->triage, it->id, it->created, it->status == ISSUE_IGNORED,
                                     evs[i]);
        if (rc != 0) return rc;
        b->ev_outcome[i] = it->created && it->stored == 1             ? WRITER_EVENT_NEW_ISSUE
                           : resolved && it->status != ISSUE_RESOLVED ? WRITER_EVENT_REGRESSION
                                                                      : WRITER_EVENT_EXISTING;
    }
    return 0;
}

/* Phase 4: issues created for events that all turned out duplicates (a
 * resend whose grouping changed) are removed. The counts of the stored
 * events are not written here: writer_batch_count hands them to the
 * node's counter buffer once the transaction has committed. */
static int drop_empty_issues(struct writer_batch *b, struct db *db)
{
    int rc = 0;
    for (size_t i = 0; i < b->nissues && rc == 0; i++)
        if (b->issues[i].stored == 0 && b->issues[i].created)
            rc = events_write_issue_delete(db, b->issues[i].id);
    return rc;
}

int writer_batch_write(struct writer_batch *b, struct db *db, struct grouped_event **evs, size_t n,
                       int64_t now_ms, struct writer_batch_result *res)
{
    if (n > b->batch_max) return -E2BIG;
    memset(res, 0, sizeof(*res));
    memset(b->slots, 0, (b->mask + 1) * sizeof(*b->slots));
    b->nissues = 0;
    writer_batch_discard(b);
    writer_triage_reset(b->triage);
    /* Phase 1: every event's issue, looked up in chunks, missing ones
     * created by their first event. */
    for (size_t i = 0; i < n; i++)
        b->ev_issue[i] = (uint32_t)(issue_for(b, evs[i], i) - b->issues);
    int rc = lock_projects(b, db);
    if (rc == 0) rc = find_issues(b, db);
    if (rc == 0) rc = ensure_issues(b, db, evs);
    for (size_t i = 0; i < n && rc == 0; i++)
        b->ev_issue_id[i] = b->issues[b->ev_issue[i]].id;
    if (rc == 0) rc = insert_events(b, db, evs, n);
    if (rc == 0) rc = account_events(b, db, evs, n, now_ms, res);
    if (rc == 0) rc = drop_empty_issues(b, db);
    if (rc == 0) rc = writer_triage_flush(b->triage, db, now_ms);
    res->alerts = b->alerts;
    res->nalerts = b->nalerts;
    return rc;
}

enum writer_event_outcome writer_batch_event_outcome(const struct writer_batch *b, size_t i,
                                                     int64_t *issue_id)
{
    *issue_id = b->ev_issue_id[i];
    return b->ev_outcome[i];
}

int writer_batch_count(const struct writer_batch *b, struct grouped_event *const *evs, size_t n,
                       struct counter_buffer *buf)
{
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (!b->ev_inserted[i]) continue;
        struct counter_event ce = {.issue_id = b->ev_issue_id[i],
                                   .project_id = evs[i]->project_id,
                                   .hash = evs[i]->hash,
                                   .timestamp_ms = evs[i]->timestamp_ms,
                                   .received_at_ms = evs[i]->received_at_ms,
                                   .tags = evs[i]->tags};
        int rc = counter_buffer_add(buf, &ce, 1);
        if (rc != 0) worst = rc;
    }
    return worst;
}

const char *writer_event_outcome_name(enum writer_event_outcome o)
{
    static const char *const names[] = {"duplicate", "new", "regression", "existing"};
    return names[o];
}
