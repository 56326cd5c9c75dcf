/* ingest — the answers of the ingest routes (ingest_internal.h): JSON body,
 * CORS on every answer, Sentry's error and rate-limit headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "base/config.h"
#include "model/event.h"
#include "http/ingest_internal.h"
#include "base/metrics.h"

#define CORS_EXPOSE "X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After"
#define CORS_ALLOW_HEADERS                                                                         \
    "x-sentry-auth, content-type, content-encoding, authorization, sentry-trace, baggage, "        \
    "x-requested-with, accept, origin"

/* True when origin is one of the comma-separated entries of list. */
static bool origin_listed(const char *list, const char *origin)
{
    size_t olen = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == olen && strncmp(p, origin, olen) == 0) return true;
        p = e;
    }
    return false;
}

static void add_cors(struct MHD_Response *resp, struct MHD_Connection *conn,
                     const struct config *cfg)
{
    const char *allowed = cfg->allowed_origins ? cfg->allowed_origins : "*";
    if (strcmp(allowed, "*") == 0) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    } else {
        const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
        if (origin && origin_listed(allowed, origin))
            MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE);
}

static void count_request(const char *route, unsigned status)
{
    char label[64];
    snprintf(label, sizeof label, "route=\"%s\",status=\"%u\"", route, status);
    metrics_add("periscope_ingest_requests_total", label, 1);
}

/* Sends body (copied) with CORS; extra headers are name/value pairs ending
 * with NULL. */
static enum MHD_Result reply_send(struct MHD_Connection *conn, const struct config *cfg,
                                  const char *route, unsigned status, const char *body,
                                  const char *const *extra)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    if (*body) MHD_add_response_header(resp, "Content-Type", "application/json");
    add_cors(resp, conn, cfg);
    for (; extra && extra[0]; extra += 2)
        MHD_add_response_header(resp, extra[0], extra[1]);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    count_request(route, status);
    return r;
}

enum MHD_Result ingest_reply_id(struct MHD_Connection *conn, const struct config *cfg,
                                const char *route, const uint8_t id[16])
{
    char hex[33], body[64];
    event_id_hex(id, hex);
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", hex);
    return reply_send(conn, cfg, route, 200, body, NULL);
}

enum MHD_Result ingest_reply_refusal(struct MHD_Connection *conn, const struct config *cfg,
                                     const char *route, const struct ingest_refusal *why)
{
    cJSON *obj = json_build("{s:s}", "detail", why->detail ? why->detail : "error");
    char *body = obj ? json_print(obj, 0) : NULL;
    cJSON_Delete(obj);
    char retry[16], limits[48];
    const char *extra[8] = {"X-Sentry-Error", why->detail ? why->detail : "error", NULL};
    int n = 2;
    if (why->retry_after_s > 0) {
        snprintf(retry, sizeof retry, "%d", why->retry_after_s);
        extra[n++] = "Retry-After";
        extra[n++] = retry;
        if (why->status == 429) {
            snprintf(limits, sizeof limits, "%d::project", why->retry_after_s);
            extra[n++] = "X-Sentry-Rate-Limits";
            extra[n++] = limits;
        }
    }
    extra[n] = NULL;
    enum MHD_Result r = reply_send(conn, cfg, route, why->status, body ? body : "{}", extra);
    free(body);
    return r;
}

enum MHD_Result ingest_reply_preflight(struct MHD_Connection *conn, const struct config *cfg)
{
    static const char *const extra[] = {
        "Access-Control-Allow-Methods",
        "POST, OPTIONS",
        "Access-Control-Allow-Headers",
        CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age",
        "3600",
        NULL,
    };
    return reply_send(conn, cfg, "options", 200, "", extra);
}
