/* The SSRF address classifier, range by range, and the guard on a real
 * libcurl transfer: "localhost" resolves to a refused address and is never
 * connected to, unless private destinations are allowed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "notify/ssrf.h"

struct case_ {
    const char *ip;
    const char *reason; /* NULL: allowed */
};

static void check_cases(const struct case_ *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = ssrf_refused_reason_text(cases[i].ip);
        if (cases[i].reason == NULL && got != NULL)
            fail_msg("%s should be allowed, refused as %s", cases[i].ip, got);
        if (cases[i].reason != NULL && (got == NULL || strcmp(got, cases[i].reason) != 0))
            fail_msg("%s should be refused as %s, got %s", cases[i].ip, cases[i].reason,
                     got ? got : "allowed");
    }
}

static void test_ssrf_refuses_every_private_ipv4_range(void **state)
{
    (void)state;
    static const struct case_ cases[] = {
        {"0.0.0.0", "this-network"},
        {"0.1.2.3", "this-network"},
        {"10.0.0.1", "private"},
        {"10.255.255.255", "private"},
        {"100.64.0.1", "cgnat"},
        {"100.127.255.254", "cgnat"},
        {"127.0.0.1", "loopback"},
        {"127.255.0.9", "loopback"},
        {"169.254.0.1", "link-local"},
        {"169.254.169.254", "metadata"},
        {"172.16.0.1", "private"},
        {"172.31.255.254", "private"},
        {"192.168.1.1", "private"},
        {"192.0.0.8", "ietf-reserved"},
        {"198.18.0.1", "benchmarking"},
        {"224.0.0.1", "multicast"},
        {"239.255.255.250", "multicast"},
        {"240.0.0.1", "reserved"},
        {"255.255.255.255", "broadcast"},
        {"192.0.2.1", "documentation"},
        {"192.0.2.255", "documentation"},
        {"198.51.100.7", "documentation"},
        {"203.0.113.200", "documentation"},
        {"192.88.99.1", "6to4-relay"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_ssrf_allows_public_ipv4_next_to_refused_ranges(void **state)
{
    (void)state;
    static const struct case_ cases[] = {
        {"1.1.1.1", NULL},         {"9.255.255.255", NULL},   {"11.0.0.0", NULL},
        {"100.63.255.255", NULL},  {"100.128.0.0", NULL},     {"126.255.255.255", NULL},
        {"128.0.0.1", NULL},       {"169.253.255.255", NULL}, {"172.15.255.255", NULL},
        {"172.32.0.0", NULL},      {"192.167.255.255", NULL}, {"192.169.0.0", NULL},
        {"223.255.255.255", NULL}, {"93.184.216.34", NULL},   {"192.0.1.255", NULL},
        {"192.0.3.0", NULL},       {"198.51.99.255", NULL},   {"198.51.101.0", NULL},
        {"203.0.112.255", NULL},   {"203.0.114.0", NULL},     {"192.88.98.255", NULL},
        {"192.88.100.0", NULL},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_ssrf_refuses_ipv6_local_ranges_and_v4_embeddings(void **state)
{
    (void)state;
    static const struct case_ cases[] = {
        {"::1", "loopback"},
        {"::", "unspecified"},
        {"fc00::1", "unique-local"},
        {"fdff:ffff::1", "unique-local"},
        {"fd00:ec2::254", "metadata"},
        {"fe80::1", "link-local"},
        {"febf::1", "link-local"},
        {"fec0::1", "site-local"},
        {"ff02::1", "multicast"},
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:10.1.2.3", "private"},
        {"::ffff:169.254.169.254", "metadata"},
        {"::127.0.0.1", "loopback"},
        {"64:ff9b::192.168.0.1", "private"},
        {"2002:7f00:1::", "loopback"},
        {"2002:c0a8:101::", "private"},
        {"64:ff9b:1::1", "nat64-local"},
        {"64:ff9b:1:ffff::a00:1", "nat64-local"},
        {"::ffff:192.0.2.1", "documentation"},
        {"::ffff:203.0.113.9", "documentation"},
        {"::ffff:0:127.0.0.1", "loopback"},
        {"::ffff:0:10.0.0.1", "private"},
        {"::ffff:0:1.1.1.1", NULL},
        {"64:ff9b::198.51.100.1", "documentation"},
        {"2002:c058:6301::", "6to4-relay"},
        {"64:ff9b:2::1", NULL},
        {"2606:4700:4700::1111", NULL},
        {"::ffff:1.1.1.1", NULL},
        {"64:ff9b::1.1.1.1", NULL},
        {"2002:101:101::", NULL},
        {"not-an-ip", "invalid"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_ssrf_checks_sockaddr_family_and_length(void **state)
{
    (void)state;
    struct sockaddr_in in = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.0.0.1", &in.sin_addr);
    assert_string_equal(ssrf_refused_reason((struct sockaddr *)&in, sizeof in), "private");
    inet_pton(AF_INET, "8.8.8.8", &in.sin_addr);
    assert_null(ssrf_refused_reason((struct sockaddr *)&in, sizeof in));
    /* A truncated address is never trusted. */
    assert_non_null(ssrf_refused_reason((struct sockaddr *)&in, 4));
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_string_equal(ssrf_refused_reason(&un, sizeof un), "unsupported-family");
}

/* A one-shot HTTP server on 127.0.0.1: answers 204 to the first connection. */
struct tiny_server {
    int fd;
    int port;
    int accepted;
};

static void *tiny_serve(void *arg)
{
    struct tiny_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) return NULL;
    s->accepted = 1;
    char buf[2048];
    (void)!read(c, buf, sizeof buf);
    const char *answer = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    (void)!write(c, answer, strlen(answer));
    close(c);
    return NULL;
}

static void tiny_start(struct tiny_server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    s->accepted = 0;
}

static CURLcode fetch(const char *url, struct ssrf_guard *g, long *status)
{
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    assert_int_equal(ssrf_guard_attach(easy, g, SSRF_SCHEMES_HTTP), 0);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(easy);
    *status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(easy);
    return rc;
}

static void test_ssrf_guard_refuses_localhost_without_connecting(void **state)
{
    (void)state;
    struct tiny_server s;
    tiny_start(&s);
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%d/hook", s.port);
    struct ssrf_guard g = {.allow_private = false};
    long status;
    CURLcode rc = fetch(url, &g, &status);
    assert_int_equal(rc, CURLE_COULDNT_CONNECT);
    assert_true(g.refused);
    assert_string_equal(g.refused_reason, "loopback");
    assert_int_equal(s.accepted, 0);
    close(s.fd);
}

static void test_ssrf_guard_allows_localhost_with_override(void **state)
{
    (void)state;
    struct tiny_server s;
    tiny_start(&s);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tiny_serve, &s), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s.port);
    struct ssrf_guard g = {.allow_private = true};
    long status;
    CURLcode rc = fetch(url, &g, &status);
    pthread_join(th, NULL);
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(status, 204);
    assert_false(g.refused);
    assert_int_equal(s.accepted, 1);
    close(s.fd);
}

static void test_ssrf_guard_refuses_other_protocols(void **state)
{
    (void)state;
    struct ssrf_guard g = {.allow_private = true};
    long status;
    assert_int_equal(fetch("file:///etc/passwd", &g, &status), CURLE_UNSUPPORTED_PROTOCOL);
    assert_int_equal(fetch("gopher://127.0.0.1:1/", &g, &status), CURLE_UNSUPPORTED_PROTOCOL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssrf_refuses_every_private_ipv4_range),
        cmocka_unit_test(test_ssrf_allows_public_ipv4_next_to_refused_ranges),
        cmocka_unit_test(test_ssrf_refuses_ipv6_local_ranges_and_v4_embeddings),
        cmocka_unit_test(test_ssrf_checks_sockaddr_family_and_length),
        cmocka_unit_test(test_ssrf_guard_refuses_localhost_without_connecting),
        cmocka_unit_test(test_ssrf_guard_allows_localhost_with_override),
        cmocka_unit_test(test_ssrf_guard_refuses_other_protocols),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
