/* ceiling — the HTTP ceiling of this machine: a bare libmicrohttpd server
 * with Periscope's daemon flags and thread count that reads each request
 * body to the end and answers 200 {"id":"<32 hex>"}. `make bench` measures
 * it under the same wrk load as Periscope, so every Periscope figure can be
 * read as a share of what the HTTP layer alone allows.
 *
 * Usage: bench_ceiling [PORT]   (else env PORT, default 8999)
 * Threads: HTTP_THREADS, default the number of online cores (as Periscope).
 * Runs until SIGINT/SIGTERM. Listens on 127.0.0.1 only. Uses nothing from
 * periscope_core. */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

static volatile sig_atomic_t stop_flag;
static atomic_ulong id_counter;

struct req {
    size_t body_bytes;
};

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static enum MHD_Result answer(struct MHD_Connection *conn)
{
    char body[64];
    unsigned long n = atomic_fetch_add(&id_counter, 1) + 1;
    int len = snprintf(body, sizeof body, "{\"id\":\"%016lx%016lx\"}", 0xbe4c4ce1UL, n);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)len, body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    struct req *r = *req_cls;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) return MHD_NO;
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        r->body_bytes += *upload_data_size; /* read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(conn);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > 65535) return -1;
    return (int)n;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : env_int("PORT", 8999);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = env_int("HTTP_THREADS", cores > 0 ? (int)cores : 1);
    if (port < 1 || port > 65535 || threads < 1) {
        fprintf(stderr, "usage: bench_ceiling [PORT] (PORT, HTTP_THREADS from env)\n");
        return 2;
    }

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bench_ceiling: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    fprintf(stderr, "bench_ceiling: listening on 127.0.0.1:%d with %d threads\n", port, threads);
    while (!stop_flag)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
