/* counters_reconcile — see counters_reconcile.h. */
#include "app/counters_reconcile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "model/event_tags.h"
#include "scripts/event_stored.h"
#include "store/counters.h"

struct reconcile {
    struct counter_buffer *buf;
    int64_t events, unreadable;
};

static int count_event(void *ctx, const struct counters_event *ev)
{
    struct reconcile *r = ctx;
    struct event_tags *tags;
    if (event_stored_tags(NULL, ev->payload, ev->payload_len, ev->event_id, ev->received_at_ms,
                          &tags) != 0)
        r->unreadable++;
    struct counter_event ce = {.issue_id = ev->issue_id,
                               .project_id = ev->project_id,
                               .hash = ev->hash,
                               .timestamp_ms = ev->timestamp_ms,
                               .received_at_ms = ev->received_at_ms,
                               .tags = tags};
    int rc = counter_buffer_add(r->buf, &ce, 1);
    free(tags);
    r->events++;
    return rc;
}

int counters_reconcile(struct db *db, int node_id, int64_t *events)
{
    struct reconcile r = {.buf = counter_buffer_new()};
    int64_t mark = 0;
    *events = 0;
    if (!r.buf) return -ENOMEM;
    int rc = counters_mark(db, node_id, &mark);
    if (rc == 0) rc = counters_reconcile_each(db, node_id, mark, count_event, &r);
    /* The flush moves the mark past these events even when there are
     * none: a clean stop left nothing to add. */
    if (rc == 0 && r.events > 0) rc = counters_flush(db, r.buf, node_id);
    counter_buffer_free(r.buf);
    if (rc == 0 && r.events > 0)
        log_info("counters reconciled", "events=%lld after_event=%lld payload_unreadable=%lld",
                 (long long)r.events, (long long)mark, (long long)r.unreadable);
    *events = r.events;
    return rc;
}
