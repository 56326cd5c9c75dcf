/* counters_reconcile — see counters_reconcile.h. */
#include "app/counters_reconcile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "base/compress.h"
#include "base/log.h"
#include "model/event_tags.h"
#include "scripts/event_stored.h"
#include "store/counters.h"
#include "store/events_read.h"

struct reconcile {
    struct counter_buffer *buf;
    int64_t events, unreadable;
};

/* The tags the worker counted for ev into *tags (NULL: none). Negative
 * when the payload cannot be read again: the event still counts, without
 * its tags. */
static int tags_of(const struct counters_event *ev, struct event_tags **tags)
{
    char *raw = NULL;
    size_t len = 0;
    cJSON *tree = NULL;
    *tags = NULL;
    int rc = ev->payload
                 ? decompress_payload(ev->payload, ev->payload_len, EVENTS_PAYLOAD_MAX, &raw, &len)
                 : -EIO;
    if (rc == 0) rc = event_stored_normalize(raw, len, ev->event_id, ev->received_at_ms, &tree);
    if (rc == 0) rc = event_tags_extract(tree, tags);
    cJSON_Delete(tree);
    free(raw);
    return rc;
}

static int count_event(void *ctx, const struct counters_event *ev)
{
    struct reconcile *r = ctx;
    struct event_tags *tags;
    if (tags_of(ev, &tags) != 0) r->unreadable++;
    int rc =
        counter_buffer_add_event(r->buf, ev->issue_id, ev->timestamp_ms, ev->received_at_ms, tags);
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
