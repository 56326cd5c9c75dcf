/* ssrf — keeps outbound notification requests away from the server's own
 * network: loopback, RFC 1918, link-local (and the cloud metadata address
 * inside it), CGNAT, multicast, reserved, documentation (TEST-NET-1/2/3),
 * the 6to4 relay anycast and "this network" IPv4 ranges, and IPv6
 * loopback, unspecified, ULA, link-local, site-local, multicast and
 * local-use NAT64 (64:ff9b:1::/48), plus the IPv4-in-IPv6 forms
 * (v4-mapped, v4-translated, v4-compatible, NAT64, 6to4) of any refused
 * IPv4 address.
 *
 * The check runs on the address libcurl is about to connect to
 * (CURLOPT_OPENSOCKETFUNCTION), after DNS resolution, so a name that
 * resolves (or re-resolves: DNS rebinding) to a refused address is refused
 * too. ssrf_guard_attach also restricts protocols, turns off redirects and
 * environment proxies (a proxy would resolve names out of our sight).
 *
 * Pure functions, thread-safe; struct ssrf_guard is owned by the caller and
 * must outlive the transfer it is attached to. */
#ifndef PERISCOPE_NOTIFY_SSRF_H
#define PERISCOPE_NOTIFY_SSRF_H

#include <stdbool.h>
#include <sys/socket.h>
#include <curl/curl.h>

/* NULL when the address may be connected to, else the name of the refused
 * range ("loopback", "private", "metadata", …; static storage). */
const char *ssrf_refused_reason(const struct sockaddr *sa, socklen_t len);

/* The same for an address in text form (tests, admin validation). Returns
 * "invalid" for text that is not an IP address. */
const char *ssrf_refused_reason_text(const char *ip);

enum ssrf_scheme_set { SSRF_SCHEMES_HTTP, SSRF_SCHEMES_SMTP };

struct ssrf_guard {
    bool allow_private;    /* ALLOW_PRIVATE_DESTINATIONS */
    bool refused;          /* set by the socket callback */
    char refused_addr[64]; /* the address that was refused */
    const char *refused_reason;
};

/* Installs the socket check and the protocol/redirect/proxy restrictions
 * on easy. g is borrowed for the transfer's lifetime. Returns 0 or -EINVAL
 * when libcurl refuses an option. */
int ssrf_guard_attach(CURL *easy, struct ssrf_guard *g, enum ssrf_scheme_set schemes);

#endif
