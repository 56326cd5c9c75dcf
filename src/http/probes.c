/* probes — /healthz, /readyz, /metrics and the fallback 404 (contract in
 * probes.h). */
#include "http/probes.h"

#include <stdbool.h>
#include <string.h>

#include "http/reply.h"
#include "base/liveness.h"
#include "base/metrics.h"
#include "http/http.h"
#include "store/store.h"
#include "base/topic.h"

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result readyz(struct http_ctx *hc, struct MHD_Connection *conn)
{
    if (hc->stopping && atomic_load(hc->stopping))
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s}", "status", "unavailable", "reason", "stopping"),
                          NULL);
    const char *stalled = liveness_stalled_stage(hc->liveness);
    if (stalled)
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s, s:s}", "status", "unavailable", "reason", "stalled",
                                    "stage", stalled),
                          NULL);
    if (!hc->store || store_ping(hc->store) != 0)
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s}", "status", "unavailable", "reason", "database"),
                          NULL);
    if (hc->events) {
        struct topic_stats ts;
        topic_stats(hc->events, &ts);
        if (ts.depth >= ts.capacity)
            return reply_json(
                conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                json_pack("{s:s, s:s}", "status", "unavailable", "reason", "events_queue_full"),
                NULL);
    }
    return reply_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
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
        return reply_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
    if (strcmp(url, "/readyz") == 0) return readyz(hc, conn);
    return reply_text(conn, MHD_HTTP_OK, metrics_render(), "text/plain; version=0.0.4");
}
