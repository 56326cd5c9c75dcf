/* semver — see semver.h. */
#include "base/semver.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

struct semver {
    const char *pkg; /* the "package@" prefix (without '@'), pkg_len bytes */
    size_t pkg_len;
    uint64_t num[3];
    const char *pre; /* pre-release identifiers, pre_len bytes; 0: none */
    size_t pre_len;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_char(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

/* A decimal number at *p (no leading zero unless "0"); advances *p. */
static int parse_number(const char **p, uint64_t *out)
{
    const char *s = *p;
    if (!is_digit(*s)) return -EINVAL;
    if (s[0] == '0' && is_digit(s[1])) return -EINVAL;
    uint64_t v = 0;
    for (; is_digit(*s); s++) {
        if (v > (INT64_MAX - 9) / 10) return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    *p = s;
    return 0;
}

/* Dot-separated non-empty identifiers up to '+' or the end; advances *p. */
static int parse_idents(const char **p)
{
    const char *s = *p;
    for (;;) {
        const char *start = s;
        while (is_ident_char(*s))
            s++;
        if (s == start) return -EINVAL;
        if (*s != '.') break;
        s++;
    }
    *p = s;
    return 0;
}

static int parse(const char *s, struct semver *v)
{
    memset(v, 0, sizeof(*v));
    if (!s) return -EINVAL;
    const char *at = strrchr(s, '@');
    if (at) {
        v->pkg = s;
        v->pkg_len = (size_t)(at - s);
        s = at + 1;
    }
    if (*s == 'v') s++;
    int parts = 0;
    for (; parts < 3; parts++) {
        if (parse_number(&s, &v->num[parts]) != 0) return -EINVAL;
        if (*s != '.' || parts == 2) {
            parts++;
            break;
        }
        s++;
    }
    if (parts < 2) return -EINVAL;
    if (*s == '-') {
        v->pre = ++s;
        if (parse_idents(&s) != 0) return -EINVAL;
        v->pre_len = (size_t)(s - v->pre);
    }
    if (*s == '+') {
        s++;
        if (parse_idents(&s) != 0) return -EINVAL;
    }
    return *s == '\0' ? 0 : -EINVAL;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* One pre-release identifier each: numeric ones by value and before
 * alphanumeric ones, those in ASCII order. */
static int cmp_ident(const char *a, size_t al, const char *b, size_t bl)
{
    int an = 1, bn = 1;
    for (size_t i = 0; i < al; i++)
        an &= is_digit(a[i]);
    for (size_t i = 0; i < bl; i++)
        bn &= is_digit(b[i]);
    if (an && bn) {
        /* No leading zeros are checked for; compare by length, then text. */
        while (al > 1 && *a == '0')
            a++, al--;
        while (bl > 1 && *b == '0')
            b++, bl--;
        if (al != bl) return al < bl ? -1 : 1;
        int c = memcmp(a, b, al);
        return c < 0 ? -1 : c > 0;
    }
    if (an != bn) return an ? -1 : 1;
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0) return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static size_t ident_len(const char *s, size_t left)
{
    size_t n = 0;
    while (n < left && s[n] != '.')
        n++;
    return n;
}

static int cmp_pre(const struct semver *a, const struct semver *b)
{
    if (!a->pre || !b->pre) return a->pre ? -1 : b->pre ? 1 : 0; /* none is after any */
    size_t i = 0, j = 0;
    while (i < a->pre_len && j < b->pre_len) {
        size_t al = ident_len(a->pre + i, a->pre_len - i);
        size_t bl = ident_len(b->pre + j, b->pre_len - j);
        int c = cmp_ident(a->pre + i, al, b->pre + j, bl);
        if (c != 0) return c;
        i += al + 1;
        j += bl + 1;
    }
    return i < a->pre_len ? 1 : j < b->pre_len ? -1 : 0; /* more identifiers: after */
}

int semver_compare(const char *a, const char *b, int *cmp)
{
    struct semver va, vb;
    if (parse(a, &va) != 0 || parse(b, &vb) != 0) return -EINVAL;
    if (va.pkg_len != vb.pkg_len || (va.pkg_len && memcmp(va.pkg, vb.pkg, va.pkg_len) != 0))
        return -EINVAL;
    int c = 0;
    for (int i = 0; i < 3 && c == 0; i++)
        c = cmp_u64(va.num[i], vb.num[i]);
    *cmp = c != 0 ? c : cmp_pre(&va, &vb);
    return 0;
}

int semver_valid(const char *s)
{
    struct semver v;
    return parse(s, &v) == 0;
}
