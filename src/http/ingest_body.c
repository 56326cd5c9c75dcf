/* ingest — a decoded request body into validated events (ingest_internal.h).
 * No I/O: envelope or store JSON in, struct ingest_event list out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "decompress.h"
#include "envelope.h"
#include "event.h"
#include "http/ingest_internal.h"
#include "jsoncheck.h"
#include "metrics.h"

void ingest_refuse(struct ingest_refusal *why, unsigned status, const char *reason,
                   const char *detail)
{
    why->status = status;
    why->reason = reason;
    why->detail = detail;
}

void ingest_batch_clear(struct ingest_batch *batch)
{
    for (size_t i = 0; i < batch->n; i++)
        event_free(batch->events[i]);
    free(batch->events);
    batch->events = NULL;
    batch->n = 0;
}

/* One event JSON → a new event appended to the batch. preferred_id: the
 * envelope header's id (wins), or NULL. */
static int add_event(const struct config *cfg, const char *p, size_t len, const uint8_t *preferred_id,
                     int64_t project_id, int64_t received_at_ms, struct ingest_batch *batch,
                     struct ingest_refusal *why)
{
    cJSON *json = NULL;
    const char *text;
    if (len > cfg->max_event_bytes) {
        ingest_refuse(why, 413, "too_large", "event exceeds the size limit");
        return -1;
    }
    int rc = jsoncheck_parse_event(p, len, cfg->max_json_depth, &json, &text);
    if (rc == -ELOOP) {
        ingest_refuse(why, 400, "too_deep", text);
        return -1;
    }
    if (rc) {
        ingest_refuse(why, 400, "invalid_json", text);
        return -1;
    }
    struct ingest_event *ev = event_new();
    struct ingest_event **grown = realloc(batch->events, (batch->n + 1) * sizeof(*grown));
    /* The bytes as received are what gets stored (event.h). */
    char *raw = malloc(len ? len : 1);
    if (raw)
        memcpy(raw, p, len);
    if (ev) {
        ev->raw = raw;
        ev->raw_len = len;
    } else {
        free(raw);
    }
    if (!ev || !raw || !grown || jsoncheck_event_id(json, preferred_id, ev->event_id) != 0) {
        if (grown)
            batch->events = grown;
        cJSON_Delete(json);
        event_free(ev);
        ingest_refuse(why, 503, "out_of_memory", "server out of memory");
        why->retry_after_s = 1;
        return -1;
    }
    batch->events = grown;
    ev->json = json;
    ev->project_id = project_id;
    ev->received_at_ms = received_at_ms;
    if (batch->n == 0)
        memcpy(batch->answer_id, ev->event_id, 16);
    batch->events[batch->n++] = ev;
    return 0;
}

static int parse_store(const struct config *cfg, const char *body, size_t len, int64_t project_id,
                       int64_t received_at_ms, struct ingest_batch *batch,
                       struct ingest_refusal *why)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len || body[i] == '{')
        return add_event(cfg, body, len, NULL, project_id, received_at_ms, batch, why);

    /* Legacy Raven: base64 of deflated JSON. */
    char *json = NULL;
    size_t json_len;
    int rc = decomp_raven(body, len, cfg->max_event_bytes, &json, &json_len);
    if (rc == -E2BIG) {
        ingest_refuse(why, 413, "too_large", "event exceeds the size limit");
        return -1;
    }
    if (rc) {
        ingest_refuse(why, 400, "invalid_json", "body is neither JSON nor base64 deflated JSON");
        return -1;
    }
    rc = add_event(cfg, json, json_len, NULL, project_id, received_at_ms, batch, why);
    free(json);
    return rc;
}

static void count_items(const struct envelope *env)
{
    for (int t = 0; t < ENVELOPE_ITEM_TYPE_COUNT; t++) {
        if (!env->counts[t])
            continue;
        char label[64];
        snprintf(label, sizeof label, "type=\"%s\"", envelope_item_type_name(t));
        metrics_add("periscope_envelope_items_total", label, (double)env->counts[t]);
    }
}

static int parse_envelope(const struct config *cfg, const char *body, size_t len,
                          int64_t project_id, int64_t received_at_ms, struct ingest_batch *batch,
                          struct ingest_refusal *why)
{
    struct envelope env;
    const char *text;
    int rc = envelope_parse(body, len, &env, &text);
    if (rc == -ENOMEM) {
        ingest_refuse(why, 503, "out_of_memory", "server out of memory");
        why->retry_after_s = 1;
        return -1;
    }
    if (rc) {
        ingest_refuse(why, 400, "invalid_envelope", text);
        return -1;
    }
    count_items(&env);
    if (env.dsn && auth_key_from_dsn(env.dsn, batch->dsn_key) == 0)
        batch->has_dsn_key = true;
    const uint8_t *preferred = env.has_event_id ? env.event_id : NULL;
    for (size_t i = 0; rc == 0 && i < env.nitems; i++) {
        const struct envelope_item *it = &env.items[i];
        if (it->type == ENVELOPE_ITEM_EVENT)
            rc = add_event(cfg, it->payload, it->payload_len, preferred, project_id,
                           received_at_ms, batch, why);
    }
    /* An envelope without events still answers with an id. */
    if (rc == 0 && batch->n == 0) {
        if (preferred)
            memcpy(batch->answer_id, preferred, 16);
        else
            event_id_generate(batch->answer_id);
    } else if (rc == 0 && preferred) {
        memcpy(batch->answer_id, preferred, 16);
    }
    envelope_free(&env);
    return rc;
}

int ingest_body_parse(const struct config *cfg, enum ingest_route route, const char *body,
                      size_t len, int64_t project_id, int64_t received_at_ms,
                      struct ingest_batch *batch, struct ingest_refusal *why)
{
    memset(why, 0, sizeof(*why));
    int rc = route == INGEST_ROUTE_STORE
                 ? parse_store(cfg, body, len, project_id, received_at_ms, batch, why)
                 : parse_envelope(cfg, body, len, project_id, received_at_ms, batch, why);
    if (rc)
        ingest_batch_clear(batch);
    return rc;
}
