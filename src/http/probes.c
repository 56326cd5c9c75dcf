/* probes — /healthz, /readyz, /metrics and the fallback 404 (contract in
 * probes.h). */
#include "http/probes.h"

#include <stdbool.h>
#include <string.h>

#include "http/reply.h"
#include "base/liveness.h"
#include "base/metrics.h"
#include "app/app.h"
#include "store/store.h"
#include "base/topic.h"

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result readyz(struct server *srv, struct MHD_Connection *conn)
{
    if (srv->stopping)
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s}", "status", "unavailable", "reason", "stopping"),
                          NULL);
    const char *stalled = liveness_stalled_stage(srv->liveness);
    if (stalled)
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s, s:s}", "status", "unavailable", "reason", "stalled",
                                    "stage", stalled),
                          NULL);
    if (!srv->store || store_ping(srv->store) != 0)
        return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s}", "status", "unavailable", "reason", "database"),
                          NULL);
    if (srv->events) {
        struct topic_stats ts;
        topic_stats(srv->events, &ts);
        if (ts.depth >= ts.capacity)
            return reply_json(
                conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                json_pack("{s:s, s:s}", "status", "unavailable", "reason", "events_queue_full"),
                NULL);
    }
    return reply_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
}

enum MHD_Result probes_answer(struct server *srv, struct MHD_Connection *conn, const char *url,
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
    if (strcmp(url, "/readyz") == 0) return readyz(srv, conn);
    return reply_text(conn, MHD_HTTP_OK, metrics_render(), "text/plain; version=0.0.4");
}
