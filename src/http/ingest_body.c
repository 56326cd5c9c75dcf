/* ingest — a decoded request body into validated events (ingest_internal.h).
 * No I/O: envelope or store JSON in, struct raw_event list out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/config.h"
#include "ingest/decompress.h"
#include "ingest/envelope.h"
#include "model/event.h"
#include "http/ingest_internal.h"
#include "model/jsoncheck.h"
#include "base/membudget.h"
#include "base/metrics.h"
#include "base/utf8.h"

#define INGEST_RETRY_AFTER_S 1

void ingest_refuse(struct ingest_refusal *why, unsigned status, const char *reason,
                   const char *detail)
{
    why->status = status;
    why->reason = reason;
    why->detail = detail;
}

void ingest_refuse_memory(struct ingest_refusal *why, const struct membudget *budget, size_t held,
                          size_t want)
{
    if (want > budget->limit || held > budget->limit - want) {
        ingest_refuse(why, 413, "too_large",
                      "request needs more memory than INGEST_MEMORY_LIMIT allows");
        return;
    }
    ingest_refuse(why, 503, "memory_busy", "server memory budget in use, retry later");
    why->retry_after_s = INGEST_RETRY_AFTER_S;
}

static void refuse_oom(struct ingest_refusal *why)
{
    ingest_refuse(why, 503, "out_of_memory", "server out of memory");
    why->retry_after_s = INGEST_RETRY_AFTER_S;
}

void ingest_batch_clear(struct ingest_batch *batch)
{
    for (size_t i = 0; i < batch->n; i++)
        raw_event_free(batch->events[i]);
    free(batch->events);
    batch->events = NULL;
    batch->n = 0;
}

/* The event's bytes as they will be stored: a copy (caller frees), made
 * valid UTF-8. NULL when out of memory. */
static char *stored_bytes(const char *p, size_t len, size_t *out_len)
{
    char *fixed;
    int rc = utf8_repair(p, len, &fixed, out_len);
    if (rc < 0) return NULL;
    if (rc == 1) return fixed;
    char *copy = malloc(len ? len : 1);
    if (copy) memcpy(copy, p, len);
    *out_len = len;
    return copy;
}

/* One event JSON → a new event appended to the batch. preferred_id: the
 * envelope header's id (wins), or NULL. */
static int add_event(const struct config *cfg, struct membudget *budget, const char *p, size_t len,
                     const uint8_t *preferred_id, int64_t project_id, int64_t received_at_ms,
                     size_t *held, struct ingest_batch *batch, struct ingest_refusal *why)
{
    if (len > cfg->max_event_bytes) {
        ingest_refuse(why, 413, "too_large", "event exceeds the size limit");
        return -1;
    }
    /* The bytes stored are the bytes parsed: the repaired ones (event.h). */
    size_t raw_len;
    char *raw = stored_bytes(p, len, &raw_len);
    if (!raw) {
        refuse_oom(why);
        return -1;
    }
    size_t tree_bytes;
    if (jsoncheck_measure(raw, raw_len, cfg->max_json_depth, &tree_bytes) != 0) {
        free(raw);
        ingest_refuse(why, 400, "too_deep", "JSON nested too deeply");
        return -1;
    }
    size_t cost = tree_bytes + raw_len;
    if (budget && membudget_take(budget, cost) != 0) {
        free(raw);
        ingest_refuse_memory(why, budget, *held, cost);
        return -1;
    }
    *held += cost;
    struct raw_event *ev = raw_event_new();
    if (!ev) {
        free(raw);
        if (budget) membudget_give(budget, cost);
        refuse_oom(why);
        return -1;
    }
    ev->raw = raw;
    ev->raw_len = raw_len;
    ev->budget = budget;
    ev->budget_bytes = budget ? cost : 0;

    cJSON *json = NULL;
    const char *text;
    /* Depth checked by jsoncheck_measure above. */
    if (jsoncheck_parse_object(raw, raw_len, &json, &text) != 0) {
        raw_event_free(ev);
        ingest_refuse(why, 400, "invalid_json", text);
        return -1;
    }
    ev->json = json;
    struct raw_event **grown = realloc(batch->events, (batch->n + 1) * sizeof(*grown));
    if (grown) batch->events = grown;
    if (!grown || jsoncheck_event_id(json, preferred_id, ev->event_id) != 0) {
        raw_event_free(ev);
        refuse_oom(why);
        return -1;
    }
    ev->project_id = project_id;
    ev->received_at_ms = received_at_ms;
    if (batch->n == 0) memcpy(batch->answer_id, ev->event_id, 16);
    batch->events[batch->n++] = ev;
    return 0;
}

static int frame_store(const struct config *cfg, const char *body, size_t len,
                       struct ingest_items *items, struct ingest_refusal *why)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    items->nevents = 1;
    if (i == len || body[i] == '{') {
        items->store_json = body;
        items->store_len = len;
        return 0;
    }

    /* Legacy Raven: base64 of deflated JSON, decoded within the budget. */
    size_t want = cfg->max_event_bytes + 1;
    if (items->budget && membudget_take(items->budget, want) != 0) {
        ingest_refuse_memory(why, items->budget, 0, want);
        return -1;
    }
    items->raven_budget = items->budget ? want : 0;
    size_t json_len;
    int rc = decomp_raven(body, len, cfg->max_event_bytes, &items->raven, &json_len);
    if (rc == -E2BIG) {
        ingest_refuse(why, 413, "too_large", "event exceeds the size limit");
        return -1;
    }
    if (rc) {
        ingest_refuse(why, 400, "invalid_json", "body is neither JSON nor base64 deflated JSON");
        return -1;
    }
    items->store_json = items->raven;
    items->store_len = json_len;
    return 0;
}

static void count_items(const struct envelope *env)
{
    for (int t = 0; t < ENVELOPE_ITEM_TYPE_COUNT; t++) {
        if (!env->counts[t]) continue;
        char label[64];
        snprintf(label, sizeof label, "type=\"%s\"", envelope_item_type_name(t));
        metrics_add("periscope_envelope_items_total", label, (double)env->counts[t]);
    }
}

static int frame_envelope(const char *body, size_t len, struct ingest_items *items,
                          struct ingest_refusal *why)
{
    const char *text;
    int rc = envelope_parse(body, len, &items->env, &text);
    if (rc == -ENOMEM) {
        refuse_oom(why);
        return -1;
    }
    if (rc) {
        ingest_refuse(why, 400, "invalid_envelope", text);
        return -1;
    }
    count_items(&items->env);
    items->nevents = items->env.counts[ENVELOPE_ITEM_EVENT];
    return 0;
}

int ingest_body_frame(const struct config *cfg, enum ingest_route route, const char *body,
                      size_t len, struct membudget *budget, struct ingest_items *items,
                      struct ingest_refusal *why)
{
    memset(items, 0, sizeof(*items));
    memset(why, 0, sizeof(*why));
    items->route = route;
    items->budget = budget;
    int rc = route == INGEST_ROUTE_STORE ? frame_store(cfg, body, len, items, why)
                                         : frame_envelope(body, len, items, why);
    if (rc) ingest_items_free(items);
    return rc;
}

int ingest_body_events(const struct config *cfg, const struct ingest_items *items,
                       int64_t project_id, int64_t received_at_ms, size_t *held,
                       struct ingest_batch *batch, struct ingest_refusal *why)
{
    memset(why, 0, sizeof(*why));
    int rc = 0;
    if (items->route == INGEST_ROUTE_STORE) {
        rc = add_event(cfg, items->budget, items->store_json, items->store_len, NULL, project_id,
                       received_at_ms, held, batch, why);
    } else {
        const struct envelope *env = &items->env;
        const uint8_t *preferred = env->has_event_id ? env->event_id : NULL;
        for (size_t i = 0; rc == 0 && i < env->nitems; i++) {
            const struct envelope_item *it = &env->items[i];
            if (it->type == ENVELOPE_ITEM_EVENT)
                rc = add_event(cfg, items->budget, it->payload, it->payload_len, preferred,
                               project_id, received_at_ms, held, batch, why);
        }
        /* An envelope without events still answers with an id. */
        if (rc == 0 && batch->n == 0 && !preferred)
            event_id_generate(batch->answer_id);
        else if (rc == 0 && preferred)
            memcpy(batch->answer_id, preferred, 16);
    }
    if (rc) ingest_batch_clear(batch);
    return rc;
}

void ingest_items_free(struct ingest_items *items)
{
    envelope_free(&items->env);
    free(items->raven);
    if (items->budget && items->raven_budget) membudget_give(items->budget, items->raven_budget);
    items->raven = NULL;
    items->raven_budget = 0;
}
