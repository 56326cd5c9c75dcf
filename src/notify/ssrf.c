#include "notify/ssrf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Refused IPv4 ranges, as data. The metadata address is listed before the
 * link-local range that contains it so that the reason names it. */
struct v4_range {
    uint32_t net;
    int prefix;
    const char *reason;
};

static const struct v4_range V4_REFUSED[] = {
    {0xA9FEA9FEu, 32, "metadata"},      /* 169.254.169.254 */
    {0x00000000u, 8, "this-network"},   /* 0.0.0.0/8 */
    {0x0A000000u, 8, "private"},        /* 10.0.0.0/8 */
    {0x64400000u, 10, "cgnat"},         /* 100.64.0.0/10 */
    {0x7F000000u, 8, "loopback"},       /* 127.0.0.0/8 */
    {0xA9FE0000u, 16, "link-local"},    /* 169.254.0.0/16 */
    {0xAC100000u, 12, "private"},       /* 172.16.0.0/12 */
    {0xC0000000u, 24, "ietf-reserved"}, /* 192.0.0.0/24 */
    {0xC0000200u, 24, "documentation"}, /* 192.0.2.0/24 TEST-NET-1 */
    {0xC0586300u, 24, "6to4-relay"},    /* 192.88.99.0/24 */
    {0xC0A80000u, 16, "private"},       /* 192.168.0.0/16 */
    {0xC6120000u, 15, "benchmarking"},  /* 198.18.0.0/15 */
    {0xC6336400u, 24, "documentation"}, /* 198.51.100.0/24 TEST-NET-2 */
    {0xCB007100u, 24, "documentation"}, /* 203.0.113.0/24 TEST-NET-3 */
    {0xE0000000u, 4, "multicast"},      /* 224.0.0.0/4 */
    {0xFFFFFFFFu, 32, "broadcast"},     /* 255.255.255.255 */
    {0xF0000000u, 4, "reserved"},       /* 240.0.0.0/4 */
};

static const char *v4_reason(uint32_t a)
{
    for (size_t i = 0; i < sizeof V4_REFUSED / sizeof V4_REFUSED[0]; i++) {
        int p = V4_REFUSED[i].prefix;
        uint32_t mask = p == 0 ? 0 : 0xFFFFFFFFu << (32 - p);
        if ((a & mask) == V4_REFUSED[i].net) return V4_REFUSED[i].reason;
    }
    return NULL;
}

static uint32_t be32_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

static const char *v6_reason(const uint8_t a[16])
{
    static const uint8_t metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                         0,    0,    0,    0,    0, 0, 0x02, 0x54};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const uint8_t nat64_local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};

    if (memcmp(a, metadata, 16) == 0) return "metadata"; /* fd00:ec2::254 */
    if (all_zero(a, 15) && a[15] <= 1) return a[15] ? "loopback" : "unspecified";
    /* ::ffff:a.b.c.d (mapped, ::ffff:0:0/96) and ::a.b.c.d (deprecated compatible form). */
    if (all_zero(a, 10) && ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0)))
        return v4_reason(be32_at(a + 12));
    /* ::ffff:0:a.b.c.d (SIIT translated, ::ffff:0:0:0/96). */
    if (all_zero(a, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0)
        return v4_reason(be32_at(a + 12));
    if (memcmp(a, nat64, 12) == 0) return v4_reason(be32_at(a + 12)); /* 64:ff9b::/96 */
    /* 64:ff9b:1::/48 (local-use NAT64, RFC 8215): where the IPv4 address
     * sits depends on the operator's prefix length, so none is trusted. */
    if (memcmp(a, nat64_local, 6) == 0) return "nat64-local";
    if (a[0] == 0x20 && a[1] == 0x02) return v4_reason(be32_at(a + 2)); /* 6to4 2002::/16 */
    if ((a[0] & 0xfe) == 0xfc) return "unique-local";                   /* fc00::/7 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";     /* fe80::/10 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local";     /* fec0::/10 */
    if (a[0] == 0xff) return "multicast";
    return NULL;
}

const char *ssrf_refused_reason(const struct sockaddr *sa, socklen_t len)
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_reason(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_reason(in6->sin6_addr.s6_addr);
    }
    return "unsupported-family"; /* unix sockets and the like: never */
}

const char *ssrf_refused_reason_text(const char *ip)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1) return v4_reason(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, ip, &a6) == 1) return v6_reason(a6.s6_addr);
    return "invalid";
}

static void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = sa->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, src, buf, (socklen_t)len)) snprintf(buf, len, "?");
}

/* libcurl calls this for every address it connects to (after resolving,
 * for each happy-eyeballs candidate). Returning CURL_SOCKET_BAD makes that
 * candidate fail; when all fail the transfer ends in CURLE_COULDNT_CONNECT. */
static curl_socket_t guarded_open_socket(void *clientp, curlsocktype purpose,
                                         struct curl_sockaddr *address)
{
    struct ssrf_guard *g = clientp;
    (void)purpose;
    if (!g->allow_private) {
        const char *why = ssrf_refused_reason(&address->addr, address->addrlen);
        if (why) {
            g->refused = true;
            g->refused_reason = why;
            addr_text(&address->addr, g->refused_addr, sizeof g->refused_addr);
            return CURL_SOCKET_BAD;
        }
    }
    return socket(address->family, address->socktype, address->protocol);
}

int ssrf_guard_attach(CURL *easy, struct ssrf_guard *g, enum ssrf_scheme_set schemes)
{
    const char *protocols = schemes == SSRF_SCHEMES_SMTP ? "smtp,smtps" : "http,https";
    g->refused = false;
    g->refused_addr[0] = '\0';
    g->refused_reason = NULL;
    if (curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, guarded_open_socket) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, g) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") != CURLE_OK)
        return -EINVAL;
    return 0;
}
