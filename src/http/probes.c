/* probes — /healthz, /readyz, /metrics and the fallback 404 (contract in
 * probes.h). */
#include "http/probes.h"

#include <stdbool.h>
#include <string.h>

#include "http/reply.h"
#include "base/health.h"
#include "base/liveness.h"
#include "base/metrics.h"
#include "http/http.h"
#include "base/topic.h"

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result unavailable(struct MHD_Connection *conn, cJSON *body)
{
    return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body, NULL);
}

/* From state the server already holds, never the database: the writer's
 * last commit and failure (base/health.h), the stall watchdog, the queue. */
static enum MHD_Result readyz(struct http_ctx *hc, struct MHD_Connection *conn)
{
    if (hc->stopping && atomic_load(hc->stopping))
        return unavailable(conn,
                           json_build("{s:s, s:s}", "status", "unavailable", "reason", "stopping"));
    struct health_view h = {0};
    if (hc->health) health_read(hc->health, &h);
    size_t queued = 0, capacity = 0;
    if (hc->events) {
        struct topic_stats ts;
        topic_stats(hc->events, &ts);
        queued = ts.depth;
        capacity = ts.capacity;
    }
    cJSON *state =
        json_build("{s:I, s:I, s:I, s:I}", "last_write_ok_ms", (int64_t)h.last_write_ok_ms,
                   "queued_events", (int64_t)queued, "spool_events", (int64_t)h.spool_events,
                   "spool_bytes", (int64_t)h.spool_bytes);
    if (h.failing_since_ms) {
        json_set(state, "failing_since_ms", json_new_int(h.failing_since_ms));
        return unavailable(conn,
                           json_build("{s:s, s:s, s:s, s:o}", "status", "unavailable", "reason",
                                      "database", "detail", h.reason, "writer", state));
    }
    const char *stalled = liveness_stalled_stage(hc->liveness);
    if (stalled) {
        cJSON_Delete(state);
        return unavailable(conn, json_build("{s:s, s:s, s:s}", "status", "unavailable", "reason",
                                            "stalled", "stage", stalled));
    }
    if (capacity && queued >= capacity) {
        cJSON_Delete(state);
        return unavailable(
            conn, json_build("{s:s, s:s}", "status", "unavailable", "reason", "events_queue_full"));
    }
    return reply_json(conn, MHD_HTTP_OK, json_build("{s:s, s:o}", "status", "ok", "writer", state),
                      NULL);
}

enum MHD_Result probes_answer(struct http_ctx *hc, struct MHD_Connection *conn, const char *url,
                              const char *method)
{
    static const struct reply_header allow = {"Allow", "GET, HEAD"};
    bool probe =
        strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 || strcmp(url, "/metrics") == 0;
    if (!probe) return reply_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such route", NULL);
    if (!is_get(method))
        return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                           "method not allowed on this route", &allow);

    if (strcmp(url, "/healthz") == 0)
        return reply_json(conn, MHD_HTTP_OK, json_build("{s:s}", "status", "ok"), NULL);
    if (strcmp(url, "/readyz") == 0) return readyz(hc, conn);
    return reply_text(conn, MHD_HTTP_OK, metrics_render(), "text/plain; version=0.0.4");
}
