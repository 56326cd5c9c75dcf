/* worker — see worker.h. */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "event.h"
#include "grouping/fallback.h"
#include "normalize.h"

enum {
    PRINT_BUFFER_START_BYTES = 64 * 1024,
    /* Printing adds no more than escapes a parsed event already held, but
     * cap the doubling anyway. */
    PRINT_BUFFER_MAX_BYTES = 256 * 1024 * 1024,
};

struct worker_ctx {
    struct server *srv;
    char *print_buf; /* reused for every event's serialized JSON */
    size_t print_cap;
};

int worker_ctx_new(struct server *srv, struct worker_ctx **out)
{
    struct worker_ctx *w = calloc(1, sizeof(*w));
    if (!w) return -ENOMEM;
    w->srv = srv;
    w->print_cap = PRINT_BUFFER_START_BYTES;
    w->print_buf = malloc(w->print_cap);
    if (!w->print_buf) {
        free(w);
        return -ENOMEM;
    }
    *out = w;
    return 0;
}

void worker_ctx_free(struct worker_ctx *w)
{
    if (!w) return;
    free(w->print_buf);
    free(w);
    compress_thread_cleanup();
}

/* The grouping of one event: its one call site, so that switching to the
 * Lua runtime (which also runs the project's filter) is a change here. */
static int worker_group(struct worker_ctx *w, struct ingest_event *ev)
{
    (void)w;
    return grouping_fallback(ev);
}

/* Serializes ev->json into the reused buffer; the length into *len. */
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

int worker_process(struct worker_ctx *w, struct ingest_event *ev)
{
    int rc = normalize_event(ev);
    if (rc == 0) rc = worker_group(w, ev);
    if (rc != 0 || ev->filtered) return rc;
    size_t len;
    rc = worker_print(w, ev->json, &len);
    if (rc == 0) rc = compress_payload(w->print_buf, len, &ev->payload, &ev->payload_len);
    if (rc != 0) return rc;
    cJSON_Delete(ev->json);
    ev->json = NULL;
    return 0;
}
