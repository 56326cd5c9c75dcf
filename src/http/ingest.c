/* ingest — the Sentry ingestion endpoints on libmicrohttpd (ingest.h).
 *
 * One struct ingest_req per request, on the MHD thread that serves the
 * connection. Nothing is decoded or parsed for a sender who is not known:
 * the first call checks method, size, encoding, the key of the headers or
 * query and the project's quota. When only the envelope header can carry
 * the key, upload calls decode just its first line (at most
 * INGEST_KEY_PROBE_BYTES) while holding the raw bytes, and check the key
 * before the body is decoded for real. Upload calls then stream the body
 * through the decoder (a refusal decided early still drains the body,
 * bounded, so the client reads the answer); the final call frames the
 * items, charges the quota for the events, parses them and publishes.
 * Decoded bytes and parsed events are taken from the server's memory
 * budget (membudget.h) before they are allocated. In ACK_MODE=commit the
 * connection is suspended until the writer acks; the ack callback (writer
 * thread) only records the status and resumes, the answer is sent from
 * the MHD thread. */
#include "http/ingest.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/clock.h"
#include "base/ack.h"
#include "ingest/auth.h"
#include "base/config.h"
#include "ingest/decompress.h"
#include "model/event.h"
#include "http/http.h"
#include "http/ingest_internal.h"
#include "base/log.h"
#include "base/membudget.h"
#include "base/metrics.h"
#include "ingest/quota.h"
#include "base/topic.h"

#define INGEST_RETRY_AFTER_S 1
/* Raw bytes of the events waiting for a worker, at most. A queued event
 * holds its parsed tree (about 8× its JSON) and its bytes, so this keeps
 * a full queue near 120 MB whatever the event size; QUEUE_CAPACITY bounds
 * the count. Past it: 503 queue_full, as when the queue is full. */
#define INGEST_QUEUE_MAX_BYTES ((size_t)12 << 20)
/* Without a key in the headers or query, the envelope header line must
 * carry it within this many decoded bytes, and arrive within the first
 * INGEST_KEY_PROBE_RAW_BYTES bytes as sent (room for a whole zstd block,
 * 128 KiB, before its first output). */
#define INGEST_KEY_PROBE_BYTES ((size_t)8 << 10)
#define INGEST_KEY_PROBE_RAW_BYTES ((size_t)256 << 10)
#define INGEST_MISSING_KEY                                                                         \
    "missing DSN key (X-Sentry-Auth, sentry_key, or dsn in the envelope header's first 8 KiB)"

struct ingest {
    const struct http_ctx *hc;
    struct auth_cache *keys;
    struct quota *quota;
};

enum ingest_phase { PHASE_READING, PHASE_WAITING, PHASE_ACKED };

struct ingest_req {
    struct http_req_base base; /* first: the dispatcher reads its kind */
    struct ingest *in;
    struct MHD_Connection *conn;
    enum ingest_route route;
    int64_t project_id;
    enum decomp_encoding enc;
    struct decomp *dec;   /* the body, decoded; created once the key is known */
    struct decomp *probe; /* no key yet: the envelope header line, decoded */
    struct decomp *held;  /* no key yet: the raw bytes read so far (identity) */
    bool probe_full;      /* the probe passed INGEST_KEY_PROBE_BYTES */
    size_t body_bytes;
    struct ingest_refusal refusal; /* status != 0: answer this once the body is read */
    bool have_key, key_checked;
    char key[AUTH_KEY_MAX + 1];
    int rate_limit;
    uint8_t answer_id[16];
    atomic_int phase;
    atomic_int ack_status;
};

/* /metrics: the memory budget's use (ctx: the server's, process lifetime). */
static void collect_memory(void *ctx)
{
    const struct membudget *b = ctx;
    metrics_set("periscope_ingest_memory_bytes", NULL, (double)membudget_used(b));
    metrics_set("periscope_ingest_memory_limit_bytes", NULL, (double)b->limit);
}

int ingest_new(const struct http_ctx *hc, struct ingest **out)
{
    struct ingest *in = calloc(1, sizeof(*in));
    if (!in) return -ENOMEM;
    in->hc = hc;
    in->keys = auth_cache_new(auth_store_lookup, hc->store, AUTH_CACHE_TTL_MS);
    in->quota = quota_new();
    /* The events topic counts the raw bytes queued on it: past
     * INGEST_QUEUE_MAX_BYTES a publish fails like a full topic (503). */
    if (!in->keys || !in->quota ||
        (hc->events &&
         topic_limit_bytes(hc->events, INGEST_QUEUE_MAX_BYTES, raw_event_queued_bytes) != 0)) {
        ingest_free(in);
        return -ENOMEM;
    }
    metrics_register_collector(collect_memory, hc->ingest_memory);
    *out = in;
    return 0;
}

void ingest_free(struct ingest *in)
{
    if (!in) return;
    auth_cache_free(in->keys);
    quota_free(in->quota);
    free(in);
}

void ingest_forget_keys(struct ingest *in)
{
    if (in) auth_cache_clear(in->keys);
}

/* "/api/<digits>/(envelope|store)[/]" → project id and route. */
static bool parse_route(const char *url, int64_t *project_id, enum ingest_route *route)
{
    if (strncmp(url, "/api/", 5) != 0) return false;
    const char *p = url + 5;
    int64_t id = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18) return false;
        id = id * 10 + (*p - '0');
    }
    if (digits == 0 || *p++ != '/') return false;
    size_t n = strlen(p);
    if (n && p[n - 1] == '/') n--;
    if (n == 8 && strncmp(p, "envelope", 8) == 0)
        *route = INGEST_ROUTE_ENVELOPE;
    else if (n == 5 && strncmp(p, "store", 5) == 0)
        *route = INGEST_ROUTE_STORE;
    else
        return false;
    *project_id = id;
    return true;
}

bool ingest_matches(const char *url)
{
    int64_t id;
    enum ingest_route route;
    return parse_route(url, &id, &route);
}

static const char *route_name(const struct ingest_req *r)
{
    return r->route == INGEST_ROUTE_STORE ? "store" : "envelope";
}

static void count_events(const char *outcome, size_t n)
{
    char label[64];
    snprintf(label, sizeof label, "outcome=\"%s\"", outcome);
    metrics_add("periscope_events_total", label, (double)n);
}

/* One info line per refusal, at most LOG_RATE_PER_SECOND a second per
 * reason (a client can cause refusals at will); the line after a quiet
 * spell says how many were left out. */
static void log_refusal(const struct ingest_req *r)
{
    uint64_t suppressed;
    if (!log_rate_admit(r->refusal.reason, &suppressed)) return;
    log_info("event refused", "project=%lld route=%s status=%u reason=%s detail=%s suppressed=%llu",
             (long long)r->project_id, route_name(r), r->refusal.status, r->refusal.reason,
             r->refusal.detail, (unsigned long long)suppressed);
}

static enum MHD_Result refuse_now(struct ingest_req *r)
{
    count_events(r->refusal.reason, 1);
    log_refusal(r);
    return ingest_reply_refusal(r->conn, r->in->hc->cfg, route_name(r), &r->refusal);
}

/* Resolves r->key: sets a refusal (401/403/503) or key_checked. */
static void check_key(struct ingest_req *r)
{
    int64_t project_id = 0;
    int rc = auth_cache_resolve(r->in->keys, r->key, &project_id, &r->rate_limit);
    if (rc == -ENOENT) {
        ingest_refuse(&r->refusal, 401, "unauthorized", "unknown or revoked DSN key");
    } else if (rc) {
        ingest_refuse(&r->refusal, 503, "unavailable", "key lookup failed");
        r->refusal.retry_after_s = INGEST_RETRY_AFTER_S;
    } else if (project_id != r->project_id) {
        ingest_refuse(&r->refusal, 403, "forbidden", "DSN key does not belong to this project");
    } else {
        r->key_checked = true;
    }
}

static void refuse_busy(struct ingest_req *r, const char *reason, const char *detail)
{
    ingest_refuse(&r->refusal, 503, reason, detail);
    r->refusal.retry_after_s = INGEST_RETRY_AFTER_S;
}

/* A decoder error (decompress.h) → the refusal; 0 → none. */
static void refuse_decode(struct ingest_req *r, int rc)
{
    if (rc == -E2BIG)
        ingest_refuse(&r->refusal, 413, "too_large", "decompressed body exceeds the size limit");
    else if (rc == -EAGAIN)
        refuse_busy(r, "memory_busy", "server memory budget in use, retry later");
    else if (rc == -ENOMEM)
        refuse_busy(r, "out_of_memory", "server out of memory");
    else if (rc)
        ingest_refuse(&r->refusal, 400, "bad_encoding",
                      "body is not valid for its Content-Encoding");
}

/* A decoder of r->enc whose room comes from the memory budget. */
static struct decomp *budgeted_decoder(struct ingest_req *r, enum decomp_encoding enc, size_t cap)
{
    struct decomp *d = NULL;
    if (decomp_new(enc, cap, &d) != 0) return NULL;
    decomp_set_budget(d, r->in->hc->ingest_memory);
    return d;
}

/* The key is known and good: a project over its quota is refused before
 * any byte is decoded; else the body decoder starts. */
static void key_accepted(struct ingest_req *r)
{
    const struct config *cfg = r->in->hc->cfg;
    int retry = 0;
    if (quota_check(r->in->quota, r->project_id, r->rate_limit, clock_wall_ms(), &retry) != 0) {
        ingest_refuse(&r->refusal, 429, "rate_limited", "project event quota exceeded");
        r->refusal.retry_after_s = retry;
        return;
    }
    size_t cap = r->route == INGEST_ROUTE_STORE ? cfg->max_event_bytes : cfg->max_envelope_bytes;
    if (!(r->dec = budgeted_decoder(r, r->enc, cap)))
        refuse_busy(r, "out_of_memory", "server out of memory");
}

/* First call: everything the headers alone decide. */
static void start(struct ingest_req *r)
{
    const struct config *cfg = r->in->hc->cfg;
    struct MHD_Connection *c = r->conn;
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len && strtoull(len, NULL, 10) > cfg->max_body_bytes) {
        ingest_refuse(&r->refusal, 413, "too_large", "body exceeds the size limit");
        return;
    }
    const char *ce =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (decomp_encoding_parse(ce, &r->enc) != 0) {
        ingest_refuse(&r->refusal, 415, "unsupported_encoding", "unsupported Content-Encoding");
        return;
    }
    /* First found wins: X-Sentry-Auth, Authorization, ?sentry_key=. */
    r->have_key =
        auth_key_from_header(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Sentry-Auth"),
                             r->key) == 0 ||
        auth_key_from_authorization(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), r->key) == 0 ||
        auth_key_copy(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sentry_key"),
                      r->key) == 0;
    if (r->have_key) {
        check_key(r);
        if (r->key_checked) key_accepted(r);
        return;
    }
    if (r->route == INGEST_ROUTE_STORE) {
        ingest_refuse(&r->refusal, 401, "unauthorized", INGEST_MISSING_KEY);
        return;
    }
    r->probe = budgeted_decoder(r, r->enc, INGEST_KEY_PROBE_BYTES);
    r->held = budgeted_decoder(r, DECOMP_IDENTITY, INGEST_KEY_PROBE_RAW_BYTES);
    if (!r->probe || !r->held) refuse_busy(r, "out_of_memory", "server out of memory");
}

static void drop_probe(struct ingest_req *r)
{
    decomp_free(r->probe);
    decomp_free(r->held);
    r->probe = r->held = NULL;
}

/* The key from the envelope header line, once the probe holds it (or
 * at_end: the body is over). Sets a refusal, or starts the body decoder
 * and feeds it the bytes held so far. */
static void probe_key(struct ingest_req *r, bool at_end)
{
    size_t len;
    const char *data = decomp_data(r->probe, &len);
    const char *nl = memchr(data, '\n', len);
    if (!nl && !at_end && !r->probe_full) return; /* wait for more */
    size_t line = nl ? (size_t)(nl - data) : len;
    char dsn[512];
    if ((!nl && r->probe_full) || line > INGEST_KEY_PROBE_BYTES ||
        envelope_header_dsn(data, line, dsn, sizeof dsn) != 0 ||
        auth_key_from_dsn(dsn, r->key) != 0) {
        drop_probe(r);
        ingest_refuse(&r->refusal, 401, "unauthorized", INGEST_MISSING_KEY);
        return;
    }
    r->have_key = true;
    check_key(r);
    if (r->key_checked) key_accepted(r);
    if (!r->refusal.status) {
        const char *raw = decomp_data(r->held, &len);
        refuse_decode(r, decomp_feed(r->dec, raw, len));
    }
    drop_probe(r);
}

/* Upload data while the key is unknown: held raw, and through the probe. */
static void consume_probing(struct ingest_req *r, const char *data, size_t size)
{
    int rc = decomp_feed(r->held, data, size);
    if (rc == -E2BIG) {
        drop_probe(r);
        ingest_refuse(&r->refusal, 401, "unauthorized", INGEST_MISSING_KEY);
        return;
    }
    if (rc) {
        refuse_decode(r, rc);
        drop_probe(r);
        return;
    }
    if (!r->probe_full) {
        rc = decomp_feed(r->probe, data, size);
        if (rc == -E2BIG)
            r->probe_full = true; /* 8 KiB decoded: the line is there or never */
        else if (rc) {
            refuse_decode(r, rc);
            drop_probe(r);
            return;
        }
    }
    probe_key(r, false);
}

/* Upload data: decode, or drain when already refused. MHD_NO closes the
 * connection when a refused client keeps sending far past the cap. */
static enum MHD_Result consume(struct ingest_req *r, const char *data, size_t size)
{
    const struct config *cfg = r->in->hc->cfg;
    r->body_bytes += size;
    if (r->refusal.status) return r->body_bytes > 2 * cfg->max_body_bytes ? MHD_NO : MHD_YES;
    if (r->body_bytes > cfg->max_body_bytes) {
        drop_probe(r);
        ingest_refuse(&r->refusal, 413, "too_large", "body exceeds the size limit");
        return MHD_YES;
    }
    if (r->probe)
        consume_probing(r, data, size);
    else
        refuse_decode(r, decomp_feed(r->dec, data, size));
    return MHD_YES;
}

/* The writer (or whoever drops the events) is done: record and resume. */
static void on_ack(void *ctx, int status)
{
    struct ingest_req *r = ctx;
    atomic_store(&r->ack_status, status);
    atomic_store(&r->phase, PHASE_ACKED);
    MHD_resume_connection(r->conn);
}

/* Publishes the batch; the answer is sent now (queue mode, failure) or
 * after the ack (commit mode). */
static enum MHD_Result publish(struct ingest_req *r, struct ingest_batch *b)
{
    const struct http_ctx *hc = r->in->hc;
    size_t n = b->n;
    memcpy(r->answer_id, b->answer_id, 16);
    if (hc->cfg->ack_mode == ACK_MODE_QUEUE) {
        /* Full (events or their raw bytes, INGEST_QUEUE_MAX_BYTES): 503. */
        int rc = topic_publish_many(hc->events, (void **)b->events, n);
        if (rc) {
            ingest_batch_clear(b);
            ingest_refuse(&r->refusal, 503, "queue_full", "server busy, retry later");
            r->refusal.retry_after_s = INGEST_RETRY_AFTER_S;
            return refuse_now(r);
        }
        free(b->events); /* the events are the pipeline's now */
        count_events("accepted", n);
        return ingest_reply_id(r->conn, hc->cfg, route_name(r), r->answer_id);
    }

    struct ack *ack = ack_new((int)n, on_ack, r);
    if (!ack) {
        ingest_batch_clear(b);
        ingest_refuse(&r->refusal, 503, "out_of_memory", "server out of memory");
        r->refusal.retry_after_s = INGEST_RETRY_AFTER_S;
        return refuse_now(r);
    }
    for (size_t i = 0; i < n; i++)
        b->events[i]->ack = ack;
    /* Suspend before publishing: the ack may fire before this returns. */
    atomic_store(&r->phase, PHASE_WAITING);
    MHD_suspend_connection(r->conn);
    int rc = topic_publish_many(hc->events, (void **)b->events, n);
    if (rc) {
        ingest_batch_clear(b);
        for (size_t i = 0; i < n; i++)
            ack_event_done(ack, rc); /* the last one resumes with rc */
        return MHD_YES;
    }
    free(b->events);
    count_events("accepted", n);
    return MHD_YES;
}

/* Body complete: frame, charge, parse, publish. */
static enum MHD_Result finish(struct ingest_req *r)
{
    const struct config *cfg = r->in->hc->cfg;
    if (!r->refusal.status && r->probe) {
        int rc = r->probe_full ? 0 : decomp_finish(r->probe);
        if (rc) {
            refuse_decode(r, rc);
            drop_probe(r);
        } else {
            probe_key(r, true);
        }
    }
    if (!r->refusal.status) refuse_decode(r, decomp_finish(r->dec));
    if (r->refusal.status) return refuse_now(r);

    size_t len;
    const char *body = decomp_data(r->dec, &len);
    struct membudget *budget = r->in->hc->ingest_memory;
    struct ingest_items items;
    struct ingest_batch batch = {0};
    if (ingest_body_frame(cfg, r->route, body, len, budget, &items, &r->refusal))
        return refuse_now(r);
    int retry = 0;
    if (quota_charge(r->in->quota, r->project_id, r->rate_limit, (int)items.nevents,
                     clock_wall_ms(), &retry) != 0) {
        ingest_items_free(&items);
        ingest_refuse(&r->refusal, 429, "rate_limited", "project event quota exceeded");
        r->refusal.retry_after_s = retry > 0 ? retry : INGEST_RETRY_AFTER_S;
        return refuse_now(r);
    }
    size_t held = decomp_held(r->dec);
    int rc =
        ingest_body_events(cfg, &items, r->project_id, clock_wall_ms(), &held, &batch, &r->refusal);
    ingest_items_free(&items);
    decomp_free(r->dec); /* events are copies: the body can go */
    r->dec = NULL;
    if (rc) return refuse_now(r);
    if (batch.n == 0) return ingest_reply_id(r->conn, cfg, route_name(r), batch.answer_id);
    return publish(r, &batch);
}

static enum MHD_Result answer_acked(struct ingest_req *r)
{
    int status = atomic_load(&r->ack_status);
    if (status == 0) return ingest_reply_id(r->conn, r->in->hc->cfg, route_name(r), r->answer_id);
    if (status == -EAGAIN)
        ingest_refuse(&r->refusal, 503, "queue_full", "server busy, retry later");
    else if (status == -ESHUTDOWN)
        ingest_refuse(&r->refusal, 503, "shutting_down", "server shutting down, retry later");
    else
        ingest_refuse(&r->refusal, 503, "store_failed", "event could not be stored, retry later");
    r->refusal.retry_after_s = INGEST_RETRY_AFTER_S;
    return refuse_now(r);
}

enum MHD_Result ingest_handle(struct ingest *in, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *upload_data, size_t *upload_data_size,
                              void **req_cls)
{
    struct ingest_req *r = *req_cls;
    if (!r) {
        if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
            return ingest_reply_preflight(conn, in->hc->cfg);
        r = calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        r->base.kind = HTTP_REQ_INGEST;
        r->in = in;
        r->conn = conn;
        atomic_init(&r->phase, PHASE_READING);
        atomic_init(&r->ack_status, 0);
        *req_cls = r;
        if (!parse_route(url, &r->project_id, &r->route))
            ingest_refuse(&r->refusal, 404, "not_found", "no such route");
        else if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            ingest_refuse(&r->refusal, 405, "method_not_allowed", "use POST");
        else
            start(r);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return consume(r, upload_data, n);
    }
    switch (atomic_load(&r->phase)) {
    case PHASE_READING:
        return finish(r);
    case PHASE_ACKED:
        return answer_acked(r);
    default:
        return MHD_YES; /* suspended: MHD calls again after resume */
    }
}

void ingest_request_done(struct ingest *in, void *req_cls)
{
    (void)in;
    struct ingest_req *r = req_cls;
    if (!r) return;
    decomp_free(r->dec);
    drop_probe(r);
    free(r);
}
