/* worker — see worker.h. */
#include "pipeline/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compress.h"
#include "model/event.h"
#include "model/event_message.h"
#include "model/event_tags.h"
#include "grouping/fallback.h"
#include "base/log.h"
#include "lua/runtime.h"
#include "lua/script_scrub.h"
#include "base/metrics.h"
#include "model/normalize.h"
#include "pipeline/pipeline.h"

enum {
    PRINT_BUFFER_START_BYTES = 64 * 1024,
    /* Printing adds no more than escapes a parsed event already held, but
     * cap the doubling anyway. */
    PRINT_BUFFER_MAX_BYTES = 256 * 1024 * 1024,
};

struct worker_ctx {
    struct runtime *lua; /* NULL: the C fallback grouping only */
    char *print_buf;     /* reused for every event's serialized JSON */
    size_t print_cap;
};

int worker_ctx_new(const struct pipeline_deps *deps, struct worker_ctx **out)
{
    struct worker_ctx *w = calloc(1, sizeof(*w));
    if (!w) return -ENOMEM;
    w->print_cap = PRINT_BUFFER_START_BYTES;
    w->print_buf = malloc(w->print_cap);
    int rc = w->print_buf ? 0 : -ENOMEM;
    if (rc == 0 && deps) rc = runtime_new(deps->scripts, deps->cfg, &w->lua);
    if (rc != 0) {
        worker_ctx_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void worker_ctx_free(struct worker_ctx *w)
{
    if (!w) return;
    runtime_free(w->lua);
    free(w->print_buf);
    free(w);
    compress_thread_cleanup();
}

/* The project's scrubbing: 1 when the tree changed, 0 when not, negative
 * when the event cannot be scrubbed. Without a runtime, the default rules. */
static int worker_scrub(struct worker_ctx *w, cJSON **json, struct grouped_event *ev)
{
    int rc;
    if (w->lua) {
        rc = runtime_scrub(w->lua, json, ev);
    } else {
        struct script_scrub_result res;
        rc = script_scrub_event(NULL, NULL, json, ev, &res);
    }
    if (rc > 0) {
        char labels[48];
        snprintf(labels, sizeof labels, "project=\"%lld\"", (long long)ev->project_id);
        metrics_add("periscope_events_scrubbed_total", labels, 1);
    }
    return rc;
}

/* The project's filter and the grouping: the Lua runtime, else (no
 * runtime, or even its default grouping failed) the C fallback, so that no
 * event is lost for want of a group. */
static int worker_group(struct worker_ctx *w, cJSON *json, struct grouped_event *ev)
{
    if (w->lua && runtime_process(w->lua, json, ev) == 0) return 0;
    if (w->lua)
        log_warn("lua grouping failed, C fallback used", "project=%lld", (long long)ev->project_id);
    if (ev->filtered) return 0;
    ev->grouping = EVENT_GROUPED_BY_FALLBACK;
    return grouping_fallback(json, ev->hash, &ev->title, &ev->culprit);
}

/* "Where is my event?": a dropped one says so (stored ones: writer.c). */
static void log_filtered(const struct grouped_event *ev)
{
    if (!log_enabled(LOG_DEBUG)) return;
    char id[33];
    event_id_hex(ev->event_id, id);
    log_debug("event filtered", "project=%lld event_id=%s by=script", (long long)ev->project_id,
              id);
}

/* Serializes json into the reused buffer; the length into *len. */
static int worker_print(struct worker_ctx *w, const cJSON *json, size_t *len)
{
    /* cJSON needs a few bytes of slack past the text (its docs: 5). */
    while (!cJSON_PrintPreallocated((cJSON *)json, w->print_buf, (int)w->print_cap, 0)) {
        if (w->print_cap >= PRINT_BUFFER_MAX_BYTES) return -E2BIG;
        char *nb = realloc(w->print_buf, w->print_cap * 2);
        if (!nb) return -ENOMEM;
        w->print_buf = nb;
        w->print_cap *= 2;
    }
    *len = strlen(w->print_buf);
    return 0;
}

/* Everything of the event but its ack, from raw's tree and bytes (which
 * may be changed: scrubbing replaces the tree and drops the bytes). */
static int worker_fill(struct worker_ctx *w, struct raw_event *raw, struct grouped_event *ev)
{
    int rc = normalize_event(raw->json, ev);
    int scrubbed = rc == 0 ? worker_scrub(w, &raw->json, ev) : 0;
    if (scrubbed < 0) return scrubbed;
    if (scrubbed > 0) { /* the bytes received hold what was scrubbed: never store them */
        free(raw->raw);
        raw->raw = NULL;
    }
    if (rc == 0) rc = worker_group(w, raw->json, ev);
    if (rc == 0 && ev->filtered) log_filtered(ev);
    if (rc != 0 || ev->filtered) return rc;
    if (raw->raw) {
        /* The bytes as received: readers normalize them again (event.h). */
        rc = compress_payload(raw->raw, raw->raw_len, &ev->payload, &ev->payload_len);
    } else {
        size_t len;
        rc = worker_print(w, raw->json, &len);
        if (rc == 0) rc = compress_payload(w->print_buf, len, &ev->payload, &ev->payload_len);
    }
    if (rc == 0) rc = event_tags_extract(raw->json, &ev->tags);
    if (rc == 0) rc = event_message_extract(raw->json, &ev->message);
    return rc;
}

int worker_process(struct worker_ctx *w, struct raw_event *raw, struct grouped_event **out)
{
    *out = NULL;
    struct grouped_event *ev = grouped_event_new();
    if (!ev) return -ENOMEM;
    grouped_event_from_raw(ev, raw);
    int rc = worker_fill(w, raw, ev);
    if (rc != 0) {
        raw->ack = ev->ack; /* the caller answers it */
        ev->ack = NULL;
        grouped_event_free(ev);
        return rc;
    }
    raw_event_release(raw); /* cJSON ends here; the budget is given back */
    *out = ev;
    return 0;
}
