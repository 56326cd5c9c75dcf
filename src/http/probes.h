/* probes — the answers outside the ingest and admin routes: GET /healthz
 * (process up), GET /readyz (a database connection answers, no stage
 * stalled: liveness.h, the queue has room), GET /metrics
 * (Prometheus text), and the 404/405 JSON for every other URL.
 *
 * Internal to src/http/; runs on MHD threads. /readyz borrows one pooled
 * store connection for a moment. */
#ifndef PERISCOPE_HTTP_PROBES_H
#define PERISCOPE_HTTP_PROBES_H

#include <microhttpd.h>

struct http_ctx;

enum MHD_Result probes_answer(struct http_ctx *hc, struct MHD_Connection *conn, const char *url,
                              const char *method);

#endif
