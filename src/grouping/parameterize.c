/* grouping/parameterize — see parameterize.h.
 *
 * Sentry builds one regex, email|url|hostname|ip|uuid|sha1|md5|date|
 * duration|hex|float|int|quoted_str|bool, and substitutes every
 * non-overlapping match, scanning left to right; at each position the first
 * alternative that matches wins (Python's regex semantics, not POSIX
 * longest-match). Each scan_* function below is one alternative: it returns
 * the length of its match at position i, or 0. */
#include "grouping/parameterize.h"

#include <errno.h>

#include "grouping/scan.h"

static bool email_local(int c)
{
    return sc_alnum(c) || (c >= 0 && strchr(".!#$%&'*+/=?^_`{|}~-", c) && c != 0);
}
static bool domain_char(int c)
{
    return sc_alnum(c) || c == '-';
}

/* [local chars]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)* */
static size_t scan_email(const struct scan *sc, size_t i)
{
    size_t *fail_until = &sc->memo->email_fail;
    if (i < *fail_until) return 0;
    size_t k = sc_run(sc, i, email_local, (size_t)-1);
    if (!k) return 0;
    size_t d;
    if (sc_at(sc, i + k) != '@' || !(d = sc_run(sc, i + k + 1, domain_char, (size_t)-1))) {
        *fail_until = i + k; /* every start inside this run ends at the same place */
        return 0;
    }
    size_t j = i + k + 1 + d;
    while (sc_at(sc, j) == '.' && (d = sc_run(sc, j + 1, domain_char, (size_t)-1)))
        j += 1 + d;
    return j - i;
}

static bool not_space(int c)
{
    return c >= 0 && !sc_space(c);
}

/* \b(wss?|https?|ftp)://[^\s/$.?#].[^\s]* */
static size_t scan_url(const struct scan *sc, size_t i)
{
    static const char *const schemes[] = {"wss://", "ws://", "https://", "http://", "ftp://", NULL};
    int c = sc_at(sc, i);
    if ((c != 'w' && c != 'h' && c != 'f') || !sc_boundary(sc, i)) return 0;
    for (const char *const *s = schemes; *s; s++) {
        if (!sc_lit(sc, i, *s)) continue;
        size_t j = i + strlen(*s);
        int first = sc_at(sc, j);
        if (first < 0 || sc_space(first) || strchr("/$.?#", first)) return 0;
        j += sc_char_len(sc, j);
        if (sc_at(sc, j) < 0 || sc_at(sc, j) == '\n') return 0;
        j += sc_char_len(sc, j);
        return j + sc_run(sc, j, not_space, (size_t)-1) - i;
    }
    return 0;
}

/* The hundred top-level domains Sentry knows, all upper or all lower case. */
static bool is_tld(const unsigned char *w, size_t k)
{
    static const char *const tlds =
        " com net org jp de uk fr br it ru es me gov pl ca au cn co in nl edu info eu ch id at kr "
        "cz"
        " mx be tv se tr tw al ua ir vn cl sk ly cc to no fi us pt dk ar hu tk gr il news ro my biz"
        " ie za nz sg ee th io xyz pe bg hk rs lt link ph club si site mobi by cat wiki la ga xxx "
        "cf"
        " hr ng jobs online kz ug gq ae is lv pro fm tips ms sa app ";
    char low[8];
    if (k < 2 || k > 6) return false;
    bool upper = w[0] >= 'A' && w[0] <= 'Z';
    low[0] = ' ';
    for (size_t j = 0; j < k; j++) {
        int c = w[j];
        if (upper ? !(c >= 'A' && c <= 'Z') : !(c >= 'a' && c <= 'z')) return false;
        low[j + 1] = (char)(upper ? c + 32 : c);
    }
    low[k + 1] = ' ';
    return memmem(tlds, strlen(tlds), low, k + 2) != NULL;
}

/* \b([a-zA-Z0-9-]{1,63}\.)+?(TLD)\b — the fewest labels that reach a TLD. */
static size_t scan_hostname(const struct scan *sc, size_t i)
{
    size_t *fail_until = &sc->memo->host_fail;
    if (i < *fail_until || !domain_char(sc_at(sc, i)) || !sc_boundary(sc, i)) return 0;
    size_t j = i;
    for (;;) {
        size_t k = sc_run(sc, j, domain_char, (size_t)-1);
        bool dot = sc_at(sc, j + k) == '.';
        if (!k || k > 63 || !dot) {
            /* A start before this label walks the same labels to it (the
             * TLD tests fall at the same places) and fails here too; so
             * does one inside it, unless only its length failed it. */
            *fail_until = k > 63 && dot ? j + k - 63 : j + k;
            return 0;
        }
        j += k + 1;
        size_t w = sc_run(sc, j, sc_word, 7);
        if (is_tld(sc->s + j, w)) return j + w - i;
    }
}

/* One IPv4 address at i with Sentry's octet rule, followed by \b. Octets
 * are tried longest first, as the greedy regex backtracks. */
static size_t ipv4_from(const struct scan *sc, size_t i, int octet)
{
    for (size_t len = 3; len >= 1; len--) {
        if (!sc_digits(sc, i, len)) continue;
        const unsigned char *d = sc->s + i;
        if (len == 3 &&
            !(d[0] == '1' || (d[0] == '2' && (d[1] <= '4' || (d[1] == '5' && d[2] <= '5')))))
            continue;
        if (octet < 3) {
            size_t rest;
            if (sc_at(sc, i + len) == '.' && (rest = ipv4_from(sc, i + len + 1, octet + 1)))
                return len + 1 + rest;
        } else if (sc_boundary(sc, i + len)) {
            return len;
        }
    }
    return 0;
}

/* ([0-9a-fA-F]{1,4}:) — returns 0 or the group's length */
static size_t h16_colon(const struct scan *sc, size_t i)
{
    size_t k = sc_run(sc, i, sc_hex, 4);
    return k && sc_at(sc, i + k) == ':' ? k + 1 : 0;
}

/* The IPv6 alternatives that can win (the others always lose to
 * (h16:){1,7}: at the same position), then \bIPv4\b. */
static size_t scan_ip(const struct scan *sc, size_t i)
{
    size_t ends[8], n = 0, j = i, k;
    while (n < 7 && (k = h16_colon(sc, j)))
        ends[n++] = (j += k);
    if (n == 7 && (k = sc_run(sc, j, sc_hex, 4))) /* (h16:){7}h16 */
        return j + k - i;
    for (size_t g = n; g >= 1; g--) /* (h16:){1,7}: */
        if (sc_at(sc, ends[g - 1]) == ':') return ends[g - 1] + 1 - i;
    if (sc_at(sc, i) == ':') { /* :((:h16){1,7}|:) */
        size_t groups = 0;
        j = i + 1;
        while (groups < 7 && sc_at(sc, j) == ':' && (k = sc_run(sc, j + 1, sc_hex, 4))) {
            j += 1 + k;
            groups++;
        }
        if (groups) return j - i;
        if (sc_at(sc, i + 1) == ':') return 2;
    }
    if (sc_lit(sc, i, "fe80:")) { /* fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]+ */
        j = i + 5;
        for (int g = 0; g < 4 && sc_at(sc, j) == ':'; g++)
            j += 1 + sc_run(sc, j + 1, sc_hex, 4);
        if (sc_at(sc, j) == '%' && (k = sc_run(sc, j + 1, sc_alnum, (size_t)-1)))
            return j + 1 + k - i;
    }
    if (sc_digit(sc_at(sc, i)) && sc_boundary(sc, i)) return ipv4_from(sc, i, 0);
    return 0;
}

/* \b[0-9a-fA-F]{count}\b, and the uuid's 8-4-4-4-12 */
static size_t hex_block(const struct scan *sc, size_t i, size_t count)
{
    return sc_run(sc, i, sc_hex, count) == count && sc_boundary(sc, i + count) ? count : 0;
}

static size_t scan_uuid(const struct scan *sc, size_t i)
{
    static const size_t parts[] = {8, 4, 4, 4, 12};
    size_t j = i;
    for (size_t p = 0; p < 5; p++) {
        if (sc_run(sc, j, sc_hex, parts[p]) != parts[p]) return 0;
        j += parts[p];
        if (p < 4 && sc_at(sc, j++) != '-') return 0;
    }
    return sc_boundary(sc, j) ? j - i : 0;
}

/* \b(\d+ms) | (\d+(\.\d+)?s)\b at a digit. Every start inside one run
 * of digits sees the same run end and the same suffix: measured once. */
static size_t scan_duration(const struct scan *sc, size_t i)
{
    struct scan_memo *m = sc->memo;
    if (i >= m->digits_end) {
        size_t j = m->digits_end = i + sc_run(sc, i, sc_digit, (size_t)-1), f;
        if (sc_at(sc, j) == '.' && (f = sc_run(sc, j + 1, sc_digit, (size_t)-1))) j += 1 + f;
        m->duration_end = sc_at(sc, j) == 's' && sc_boundary(sc, j + 1) ? j + 1 : 0;
    }
    size_t end = m->digits_end;
    if (sc_boundary(sc, i) && sc_at(sc, end) == 'm' && sc_at(sc, end + 1) == 's')
        return end + 2 - i;
    return m->duration_end ? m->duration_end - i : 0;
}

/* \b0[xX][0-9a-fA-F]+\b */
static size_t scan_hex(const struct scan *sc, size_t i)
{
    size_t k;
    if (sc_at(sc, i) != '0' || (sc_at(sc, i + 1) | 0x20) != 'x' || !sc_boundary(sc, i) ||
        !(k = sc_run(sc, i + 2, sc_hex, (size_t)-1)))
        return 0;
    return sc_boundary(sc, i + 2 + k) ? k + 2 : 0;
}

/* -\d+\.\d+\b | \b\d+\.\d+\b, and the same without the fraction for int */
static size_t scan_number(const struct scan *sc, size_t i, bool fraction)
{
    size_t j = i;
    if (sc_at(sc, j) == '-')
        j++;
    else if (!sc_boundary(sc, i))
        return 0;
    size_t k = sc_run(sc, j, sc_digit, (size_t)-1);
    if (!k) return 0;
    j += k;
    if (fraction) {
        if (sc_at(sc, j) != '.' || !(k = sc_run(sc, j + 1, sc_digit, (size_t)-1))) return 0;
        j += 1 + k;
    }
    return sc_boundary(sc, j) ? j - i : 0;
}

/* (?<==)('[^']+'|"[^"]+") and (?<==)(True|true|False|false) */
static size_t scan_after_equals(const struct scan *sc, size_t i, bool *is_bool)
{
    if (i == 0 || sc->s[i - 1] != '=') return 0;
    int q = sc_at(sc, i);
    if (q == '\'' || q == '"') {
        const unsigned char *end = memchr(sc->s + i + 1, q, sc->n - i - 1);
        if (end && end > sc->s + i + 1) {
            *is_bool = false;
            return (size_t)(end - (sc->s + i)) + 1;
        }
    }
    static const char *const words[] = {"True", "true", "False", "false", NULL};
    for (const char *const *w = words; *w; w++)
        if (sc_lit(sc, i, *w)) {
            *is_bool = true;
            return strlen(*w);
        }
    return 0;
}

/* The first alternative matching at i: its length, *name its placeholder. */
static size_t match_at(const struct scan *sc, size_t i, const char **name)
{
    size_t k;
    bool is_bool = false;
    int c = sc->s[i];
    if ((k = scan_email(sc, i))) return *name = "<email>", k;
    if ((k = scan_url(sc, i))) return *name = "<url>", k;
    if ((k = scan_hostname(sc, i))) return *name = "<hostname>", k;
    if ((sc_hex(c) || c == ':') && (k = scan_ip(sc, i))) return *name = "<ip>", k;
    if (sc_hex(c) && sc_boundary(sc, i)) {
        if ((k = scan_uuid(sc, i))) return *name = "<uuid>", k;
        if ((k = hex_block(sc, i, 40))) return *name = "<sha1>", k;
        if ((k = hex_block(sc, i, 32))) return *name = "<md5>", k;
    }
    if ((sc_digit(c) || (c >= 'A' && c <= 'Z') || c == 'd') && (k = scan_date(sc, i)))
        return *name = "<date>", k;
    if (sc_digit(c) && (k = scan_duration(sc, i))) return *name = "<duration>", k;
    if ((k = scan_hex(sc, i))) return *name = "<hex>", k;
    if ((sc_digit(c) || c == '-') && (k = scan_number(sc, i, true))) return *name = "<float>", k;
    if ((sc_digit(c) || c == '-') && (k = scan_number(sc, i, false))) return *name = "<int>", k;
    if ((k = scan_after_equals(sc, i, &is_bool)))
        return *name = is_bool ? "<bool>" : "<quoted_str>", k;
    return 0;
}

int parameterize(const char *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    struct scan_memo memo = {0};
    struct scan sc = {(const unsigned char *)in, len, &memo};
    size_t o = 0;

    *out_len = 0;
    if (cap == 0) return -ENOBUFS;
    for (size_t i = 0; i < len;) {
        const char *name = NULL;
        size_t k = match_at(&sc, i, &name);
        const char *src = k ? name : in + i;
        size_t n = k ? strlen(name) : 1;
        if (o + n >= cap) {
            out[o] = '\0';
            return -ENOBUFS;
        }
        memcpy(out + o, src, n);
        o += n;
        i += k ? k : 1;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}
