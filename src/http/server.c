/* server — the libmicrohttpd daemon and the top-level dispatch (contract in
 * http.h).
 *
 * One daemon per process: the in-flight request count that lets http_stop
 * drain lives in this file. Per connection a small struct tracks whether a
 * request is under way, so the count stays right whatever each handler does
 * with *req_cls. */
#include "http/http.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/admin_router.h"
#include "http/ingest.h"
#include "http/probes.h"
#include "http/reply.h"
#include "http/web.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/config.h"

#define CONNECTION_LIMIT_MAX 10000
#define FDS_RESERVED 128        /* for the database, outbound HTTP, files */
#define DRAIN_WAIT_MAX_MS 10000 /* http_stop waits this long for in-flight requests */

static atomic_int inflight;
/* http_stop waits on drained until inflight reaches 0 (the last request to
 * end broadcasts it) or its time is up. CLOCK_MONOTONIC. */
static pthread_mutex_t drain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained;
static pthread_once_t drained_once = PTHREAD_ONCE_INIT;

static void drained_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&drained, &ca);
    pthread_condattr_destroy(&ca);
}

struct conn_state {
    bool in_request;
};

struct other_req {
    struct http_req_base base;
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct conn_state));
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void request_begins(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *cs = ci ? ci->socket_context : NULL;
    if (cs && !cs->in_request) {
        cs->in_request = true;
        atomic_fetch_add(&inflight, 1);
    }
}

static void request_ends(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *cs = ci ? ci->socket_context : NULL;
    if (cs && cs->in_request) {
        cs->in_request = false;
        if (atomic_fetch_sub(&inflight, 1) == 1) {
            pthread_mutex_lock(&drain_mu);
            pthread_cond_broadcast(&drained);
            pthread_mutex_unlock(&drain_mu);
        }
    }
}

/* /healthz, /readyz, /metrics and the 404 for everything else: answered
 * once the (ignored) body has been read. */
static enum MHD_Result handle_other(struct http_ctx *hc, struct MHD_Connection *conn,
                                    const char *url, const char *method, size_t *upload_data_size,
                                    void **req_cls)
{
    if (!*req_cls) {
        struct other_req *r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->base.kind = HTTP_REQ_OTHER;
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (web_matches(url)) return web_answer(hc->web, conn, url, method);
    return probes_answer(hc, conn, url, method);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_ctx *hc = cls;
    (void)version;
    request_begins(conn);
    struct http_req_base *base = *req_cls;
    if (base ? base->kind == HTTP_REQ_INGEST : ingest_matches(url))
        return ingest_handle(hc->ingest, conn, url, method, upload_data, upload_data_size, req_cls);
    if (base ? base->kind == HTTP_REQ_ADMIN : admin_router_matches(url))
        return admin_router_handle(&hc->admin, conn, url, method, upload_data, upload_data_size,
                                   req_cls);
    return handle_other(hc, conn, url, method, upload_data_size, req_cls);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    struct http_req_base *base = *req_cls;
    if (base) {
        switch (base->kind) {
        case HTTP_REQ_ADMIN:
            admin_router_done(base);
            break;
        case HTTP_REQ_INGEST:
            ingest_request_done(((struct http_ctx *)cls)->ingest, base);
            break;
        case HTTP_REQ_OTHER:
            free(base);
            break;
        }
        *req_cls = NULL;
    }
    request_ends(conn);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("http", "error=%s", msg);
}

static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return CONNECTION_LIMIT_MAX;
    if (rl.rlim_cur <= 2 * FDS_RESERVED) return (unsigned)(rl.rlim_cur / 2);
    rlim_t n = rl.rlim_cur - FDS_RESERVED;
    return n > CONNECTION_LIMIT_MAX ? CONNECTION_LIMIT_MAX : (unsigned)n;
}

static int resolve_bind(const struct config *cfg, struct addrinfo **out, char *err,
                        unsigned long errlen)
{
    char port[8];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    snprintf(port, sizeof port, "%d", cfg->port);
    int rc = getaddrinfo(cfg->host, port, &hints, out);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve HOST \"%s\": %s", cfg->host, gai_strerror(rc));
        return -EINVAL;
    }
    return 0;
}

int http_listen(const struct config *cfg, int *out, char *err, unsigned long errlen)
{
    struct addrinfo *ai;
    int rc = resolve_bind(cfg, &ai, err, errlen);
    if (rc) return rc;
    bool v6 = strchr(cfg->host, ':') != NULL;
    /* SO_REUSEADDR only (a restart binds despite TIME_WAIT); never
     * SO_REUSEPORT, with which a second server would share the port. */
    int one = 1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot listen on %s%s%s:%d: %s", v6 ? "[" : "", cfg->host,
                 v6 ? "]" : "", cfg->port,
                 rc == -EADDRINUSE ? "address already in use" : strerror(-rc));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    *out = fd;
    return 0;
}

int http_start(struct http_ctx *hc, char *err, unsigned long errlen)
{
    const struct config *cfg = hc->cfg;
    struct sockaddr_storage addr;
    socklen_t addrlen = sizeof addr;
    if (hc->listen_fd < 0 || getsockname(hc->listen_fd, (struct sockaddr *)&addr, &addrlen) != 0) {
        snprintf(err, errlen, "no listening socket (http_listen)");
        return -EBADF;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    atomic_store(&inflight, 0);
    pthread_once(&drained_once, drained_init);
    hc->admin = (struct admin_ctx){
        .cfg = hc->cfg, .store = hc->store, .scripts = hc->scripts, .ingest = hc->ingest};
    if (cfg->web_dir && !hc->web) {
        int rc = web_assets_open(cfg->web_dir, &hc->web, err, errlen);
        if (rc) return rc;
        log_info("web interface", "dir=%s files=%zu", cfg->web_dir, web_assets_count(hc->web));
    }
    if (admin_router_start() != 0) {
        snprintf(err, errlen, "cannot start the admin request pools");
        return -EAGAIN;
    }

    /* clang-format off */
    hc->httpd = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, hc,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, hc, /* first, so MHD never logs on its own */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)hc->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, hc,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, hc,
        MHD_OPTION_END);
    /* clang-format on */
    if (!hc->httpd) {
        admin_router_stop();
        web_assets_free(hc->web);
        hc->web = NULL;
        snprintf(err, errlen, "cannot start the HTTP daemon on %s:%d", cfg->host, cfg->port);
        return -EIO;
    }
    hc->listen_fd = -1; /* the daemon's now: MHD_stop_daemon closes it */
    log_info("http listening", "host=%s port=%d threads=%d", cfg->host, cfg->port,
             cfg->http_threads);
    return 0;
}

void http_quiesce(struct http_ctx *hc)
{
    if (!hc->httpd || hc->quiesced) return;
    MHD_socket fd = MHD_quiesce_daemon(hc->httpd);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    hc->quiesced = true;
}

void http_stop(struct http_ctx *hc)
{
    http_stop_within(hc, DRAIN_WAIT_MAX_MS);
}

void http_stop_within(struct http_ctx *hc, int drain_ms)
{
    if (!hc->httpd) return;
    http_quiesce(hc);

    /* Requests under way finish before the daemon goes: stopping it would
     * close them mid-answer. Suspended ones were answered already when the
     * pipeline stopped (it acks every event it holds). */
    int64_t t0 = clock_mono_ms();
    struct timespec until = clock_deadline_mono(drain_ms);
    pthread_mutex_lock(&drain_mu);
    while (atomic_load(&inflight) > 0 &&
           pthread_cond_timedwait(&drained, &drain_mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&drain_mu);
    int waited = (int)(clock_mono_ms() - t0);
    if (atomic_load(&inflight) > 0)
        log_warn("http stopping with requests in flight", "count=%d", atomic_load(&inflight));
    admin_router_stop();
    MHD_stop_daemon(hc->httpd);
    hc->httpd = NULL;
    web_assets_free(hc->web);
    hc->web = NULL;
    log_info("http stopped", "drain_ms=%d", waited);
}
