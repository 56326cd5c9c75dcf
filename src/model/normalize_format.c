/* normalize_format — see normalize_format.h. */
#include "model/normalize_format.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    /* The %-template matcher's steps: per template byte, plus a floor. */
    MATCH_STEPS_PER_BYTE = 8,
    MATCH_STEPS_MIN = 64,
    /* Nesting printed as JSON; cJSON parses at most 1000 levels. */
    JSON_DEPTH_MAX = 1000,
};

#define ELLIPSIS "..."
#define ELLIPSIS_CHARS 3

/* ---- text: a growing buffer that stops taking characters past the cap --- */

struct text {
    char *data;
    size_t len, cap;
    size_t chars; /* code points held (at most MAX_CHARS + 1) */
    bool oom;
};

static bool is_char_start(unsigned char c)
{
    return (c & 0xc0) != 0x80;
}

static bool text_full(const struct text *t)
{
    return t->chars > TRIM_MESSAGE_CHARS || t->oom;
}

static bool text_reserve(struct text *t, size_t more)
{
    if (t->len + more + 1 <= t->cap) return true;
    size_t cap = t->cap ? t->cap : 64;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->data, cap);
    if (!p) {
        t->oom = true;
        return false;
    }
    t->data = p;
    t->cap = cap;
    return true;
}

/* Appends s[0..n), keeping at most one character past the cap: enough to
 * know the text is too long, never more. */
static void text_put(struct text *t, const char *s, size_t n)
{
    if (text_full(t) || n == 0) return;
    size_t room = TRIM_MESSAGE_CHARS + 1 - t->chars, take = 0, chars = 0;
    if (n <= room) { /* n bytes are at most n characters */
        take = n;
        for (size_t i = 0; i < n; i++)
            chars += is_char_start((unsigned char)s[i]);
    } else {
        for (; take < n; take++) {
            if (is_char_start((unsigned char)s[take])) {
                if (chars == room) break;
                chars++;
            }
        }
    }
    if (!text_reserve(t, take)) return;
    memcpy(t->data + t->len, s, take);
    t->len += take;
    t->data[t->len] = '\0';
    t->chars += chars;
}

static void text_puts(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* Byte offset of the first byte of character number `keep` (0-based) in s,
 * or len when s has no more than keep characters. */
static size_t offset_of_char(const char *s, size_t len, size_t keep)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_char_start((unsigned char)s[i])) {
            if (chars == keep) return i;
            chars++;
        }
    }
    return len;
}

/* The text capped, ownership to the caller; NULL when out of memory. */
static char *text_take(struct text *t)
{
    if (t->oom || !text_reserve(t, ELLIPSIS_CHARS)) {
        free(t->data);
        return NULL;
    }
    if (t->chars > TRIM_MESSAGE_CHARS) {
        t->len = offset_of_char(t->data, t->len, TRIM_MESSAGE_CHARS - ELLIPSIS_CHARS);
        memcpy(t->data + t->len, ELLIPSIS, ELLIPSIS_CHARS + 1);
    }
    return t->data;
}

/* ---- numbers, as Rust prints Relay's values ---------------------------- */

#define INT_LIMIT 18446744073709551616.0 /* 2^64 */
#define INT_FLOOR -9223372036854775808.0 /* -2^63 */

/* Whether Relay holds v as an integer (i64 or u64): integral and in range.
 * JSON's 2.0 is integral here too (see the header). */
static bool number_is_int(double v)
{
    return isfinite(v) && v == floor(v) && v >= INT_FLOOR && v < INT_LIMIT;
}

static void put_int(struct text *t, double v)
{
    char buf[32];
    if (v < 0)
        snprintf(buf, sizeof buf, "%lld", (long long)v);
    else
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    text_puts(t, buf);
}

/* |v| > 0, finite: the fewest significant digits that read back as |v|
 * (no trailing zeros) and the decimal exponent of the first one. */
static size_t shortest_digits(double v, char digits[24], int *exp10)
{
    char buf[40];
    v = fabs(v);
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    size_t n = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    return n;
}

static void put_zeros(struct text *t, long n)
{
    static const char zeros[] = "0000000000000000";
    while (n > 0 && !text_full(t)) {
        size_t k = n > 16 ? 16 : (size_t)n;
        text_put(t, zeros, k);
        n -= (long)k;
    }
}

/* Rust's Display for f64: positional, never an exponent, no ".0". */
static void put_float_display(struct text *t, double v)
{
    if (v == 0) {
        text_puts(t, signbit(v) ? "-0" : "0");
        return;
    }
    char d[24];
    int e;
    size_t n = shortest_digits(v, d, &e);
    if (v < 0) text_puts(t, "-");
    if (e >= (long)n - 1) {
        text_put(t, d, n);
        put_zeros(t, e - ((long)n - 1));
    } else if (e >= 0) {
        text_put(t, d, (size_t)e + 1);
        text_puts(t, ".");
        text_put(t, d + e + 1, n - (size_t)e - 1);
    } else {
        text_puts(t, "0.");
        put_zeros(t, -e - 1);
        text_put(t, d, n);
    }
}

/* serde_json's f64 (the ryu crate's layout). */
static void put_float_json(struct text *t, double v)
{
    if (v == 0) {
        text_puts(t, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    char d[24], ebuf[16];
    int e;
    long n = (long)shortest_digits(v, d, &e);
    long kk = e + 1; /* digits before the decimal point */
    if (v < 0) text_puts(t, "-");
    if (kk >= n && kk <= 16) {
        text_put(t, d, (size_t)n);
        put_zeros(t, kk - n);
        text_puts(t, ".0");
    } else if (kk > 0 && kk <= 16) {
        text_put(t, d, (size_t)kk);
        text_puts(t, ".");
        text_put(t, d + kk, (size_t)(n - kk));
    } else if (kk > -5 && kk <= 0) {
        text_puts(t, "0.");
        put_zeros(t, -kk);
        text_put(t, d, (size_t)n);
    } else {
        text_put(t, d, 1);
        if (n > 1) {
            text_puts(t, ".");
            text_put(t, d + 1, (size_t)n - 1);
        }
        snprintf(ebuf, sizeof ebuf, "e%ld", kk - 1);
        text_puts(t, ebuf);
    }
}

/* Rust's LowerExp / UpperExp for f64: shortest digits, "1.5e-7". */
static void put_float_exp(struct text *t, double v, bool upper)
{
    char d[24], ebuf[16];
    int e = 0;
    size_t n = 1;
    if (v == 0)
        strcpy(d, "0");
    else
        n = shortest_digits(v, d, &e);
    if (signbit(v)) text_puts(t, "-");
    text_put(t, d, 1);
    if (n > 1) {
        text_puts(t, ".");
        text_put(t, d + 1, n - 1);
    }
    snprintf(ebuf, sizeof ebuf, "%c%d", upper ? 'E' : 'e', e);
    text_puts(t, ebuf);
}

/* ---- JSON as serde_json prints Relay's values -------------------------- */

static void put_json_string(struct text *t, const char *s)
{
    /* serde_json's escapes: short ones, else \u00XX for control bytes */
    static const char hex[] = "0123456789abcdef";
    static const char plain[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
    text_puts(t, "\"");
    const char *run = s;
    for (const char *p = s; *p && !text_full(t); p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        text_put(t, run, (size_t)(p - run));
        const char *k = memchr(plain, c, sizeof plain - 1);
        char esc[7] = {'\\', k ? letter[k - plain] : 'u', 0};
        if (!k) {
            esc[2] = esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        text_puts(t, esc);
        run = p + 1;
    }
    text_puts(t, run);
    text_puts(t, "\"");
}

struct member {
    const cJSON *item;
    size_t order;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* obj's members sorted by key (byte order), a repeated key resolved to its
 * last value — Relay's objects are ordered maps. *out (caller frees) may be
 * NULL when *n is 0. -ENOMEM. */
static int sorted_members(const cJSON *obj, struct member **out, size_t *n)
{
    size_t count = 0;
    *out = NULL;
    *n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        count++;
    if (count == 0) return 0;
    struct member *m = malloc(count * sizeof *m);
    if (!m) return -ENOMEM;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next) {
        m[i].item = c;
        m[i].order = i;
        i++;
    }
    qsort(m, count, sizeof *m, member_cmp);
    size_t k = 0;
    for (i = 0; i < count; i++) {
        if (k && strcmp(m[k - 1].item->string, m[i].item->string) == 0)
            m[k - 1] = m[i];
        else
            m[k++] = m[i];
    }
    *out = m;
    *n = k;
    return 0;
}

static void put_indent(struct text *t, int pretty, int depth)
{
    if (!pretty) return;
    text_puts(t, "\n");
    for (int i = 0; i < depth && !text_full(t); i++)
        text_puts(t, "  ");
}

static void put_json(struct text *t, const cJSON *v, int pretty, int depth)
{
    if (text_full(t)) return;
    if (depth > JSON_DEPTH_MAX) {
        text_puts(t, "null");
        return;
    }
    if (cJSON_IsString(v)) {
        put_json_string(t, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        if (number_is_int(v->valuedouble))
            put_int(t, v->valuedouble);
        else
            put_float_json(t, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        text_puts(t, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v)) {
        text_puts(t, "[");
        int i = 0;
        for (const cJSON *c = v->child; c && !text_full(t); c = c->next, i++) {
            if (i) text_puts(t, ",");
            put_indent(t, pretty, depth + 1);
            put_json(t, c, pretty, depth + 1);
        }
        if (i) put_indent(t, pretty, depth);
        text_puts(t, "]");
    } else if (cJSON_IsObject(v)) {
        struct member *m;
        size_t n;
        if (sorted_members(v, &m, &n) != 0) {
            t->oom = true;
            return;
        }
        text_puts(t, "{");
        for (size_t i = 0; i < n && !text_full(t); i++) {
            if (i) text_puts(t, ",");
            put_indent(t, pretty, depth + 1);
            put_json_string(t, m[i].item->string);
            text_puts(t, pretty ? ": " : ":");
            put_json(t, m[i].item, pretty, depth + 1);
        }
        if (n) put_indent(t, pretty, depth);
        text_puts(t, "}");
        free(m);
    } else {
        text_puts(t, "null");
    }
}

char *normalize_lenient_text(const cJSON *v, int *err)
{
    *err = 0;
    if (!v || cJSON_IsFalse(v) || cJSON_IsNull(v)) return NULL;
    struct text t = {0};
    if (cJSON_IsString(v))
        text_puts(&t, v->valuestring);
    else
        put_json(&t, v, 0, 0);
    char *s = (t.data || t.oom) ? text_take(&t) : strdup("");
    if (!s) *err = -ENOMEM;
    return s;
}

/* ---- one placeholder's param ------------------------------------------- */

enum conversion {
    CONV_DISPLAY,
    CONV_JSON,
    CONV_OCTAL,
    CONV_HEX,
    CONV_HEX_UPPER,
    CONV_EXP,
    CONV_EXP_UPPER
};

static enum conversion conversion_of(char type)
{
    switch (type) {
    case 'r':
        return CONV_JSON;
    case 'o':
        return CONV_OCTAL;
    case 'x':
        return CONV_HEX;
    case 'X':
        return CONV_HEX_UPPER;
    case 'e':
        return CONV_EXP;
    case 'E':
        return CONV_EXP_UPPER;
    default:
        return CONV_DISPLAY; /* d i u f F g G c s */
    }
}

/* Whether conv can print v (dynfmt's serializer refuses the others). */
static bool printable(enum conversion conv, const cJSON *v)
{
    switch (conv) {
    case CONV_DISPLAY:
    case CONV_JSON:
        return true;
    case CONV_OCTAL:
    case CONV_HEX:
    case CONV_HEX_UPPER:
        return cJSON_IsNumber(v) && number_is_int(v->valuedouble);
    default:
        return cJSON_IsNumber(v) && !number_is_int(v->valuedouble);
    }
}

static void put_param(struct text *t, enum conversion conv, bool alternate, const cJSON *v)
{
    char buf[40];
    if (text_full(t)) return;
    if (conv == CONV_JSON || ((cJSON_IsArray(v) || cJSON_IsObject(v)) && conv == CONV_DISPLAY)) {
        put_json(t, v, alternate, 0);
    } else if (cJSON_IsString(v)) {
        text_puts(t, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        text_puts(t, cJSON_IsTrue(v) ? "true" : "false");
    } else if (conv == CONV_DISPLAY) {
        if (number_is_int(v->valuedouble))
            put_int(t, v->valuedouble);
        else
            put_float_display(t, v->valuedouble);
    } else if (conv == CONV_EXP || conv == CONV_EXP_UPPER) {
        put_float_exp(t, v->valuedouble, conv == CONV_EXP_UPPER);
    } else {
        /* two's complement for negative integers, as Rust prints an i64 */
        double d = v->valuedouble;
        unsigned long long u = d < 0 ? (unsigned long long)(long long)d : (unsigned long long)d;
        const char *prefix = !alternate ? "" : conv == CONV_OCTAL ? "0o" : "0x";
        const char *fmt = conv == CONV_OCTAL ? "%s%llo" : conv == CONV_HEX ? "%s%llx" : "%s%llX";
        snprintf(buf, sizeof buf, fmt, prefix, u);
        text_puts(t, buf);
    }
}

/* ---- params by position or name ---------------------------------------- */

struct params {
    const cJSON *root;
    const cJSON **items; /* array elements, built on first use */
    size_t nitems;
    struct member *members; /* object members sorted, built on first use */
    size_t nmembers;
    size_t next; /* the next automatic position */
    bool oom;
};

/* The param at index, NULL when there is none (not a list, out of range,
 * or null: Relay treats a null param as missing). */
static const cJSON *param_at(struct params *p, size_t index)
{
    if (!cJSON_IsArray(p->root)) return NULL;
    if (!p->items) {
        size_t n = 0;
        for (const cJSON *c = p->root->child; c; c = c->next)
            n++;
        p->items = malloc((n ? n : 1) * sizeof *p->items);
        if (!p->items) {
            p->oom = true;
            return NULL;
        }
        n = 0;
        for (const cJSON *c = p->root->child; c; c = c->next)
            p->items[n++] = c;
        p->nitems = n;
    }
    if (index >= p->nitems || cJSON_IsNull(p->items[index])) return NULL;
    return p->items[index];
}

static const cJSON *param_named(struct params *p, const char *key, size_t keylen)
{
    if (!cJSON_IsObject(p->root)) return NULL;
    if (!p->members && sorted_members(p->root, &p->members, &p->nmembers) != 0) {
        p->oom = true;
        return NULL;
    }
    size_t lo = 0, hi = p->nmembers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = p->members[mid].item->string;
        int c = strncmp(k, key, keylen);
        if (c == 0 && k[keylen] != '\0') c = 1;
        if (c == 0) return cJSON_IsNull(p->members[mid].item) ? NULL : p->members[mid].item;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void params_free(struct params *p)
{
    free(p->items);
    free(p->members);
}

/* ---- the two template syntaxes ----------------------------------------- */

/* Regex \w as Relay's (Unicode) regex reads it, approximated: ASCII letters,
 * digits and '_', and every byte of a non-ASCII character. */
static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

struct placeholder {
    size_t end; /* one past its last byte */
    const char *key;
    size_t keylen;
    bool has_index; /* an explicit position: {0} */
    size_t index;
    char type; /* conversion letter, '%' for a literal percent sign */
    bool alternate;
};

struct matcher {
    const char *s;
    size_t steps_left;
};

/* dynfmt's Python placeholder, as its regex matches at s[p] (after '%'):
 *   (\((\w+)\))?  [#0\- +]*  (\*|\d+)?  (.(\*|\d+))?  [hlL]*  [diouxXeEfFgGcrs%]
 * with the regex's leftmost-first backtracking (note the unescaped '.': the
 * precision may follow any one character but a newline). Each function
 * returns 1 on a match, 0 on none, -1 when the step budget ran out. */
/* Charges n steps (at least one); false once the budget is spent. */
static bool spend(struct matcher *m, size_t n)
{
    n = n ? n : 1;
    if (m->steps_left < n) {
        m->steps_left = 0;
        return false;
    }
    m->steps_left -= n;
    return true;
}

static int match_type(struct matcher *m, size_t p, struct placeholder *ph)
{
    if (!spend(m, 1)) return -1;
    while (m->s[p] == 'h' || m->s[p] == 'l' || m->s[p] == 'L')
        p++;
    if (m->s[p] == '\0' || !strchr("diouxXeEfFgGcrs%", m->s[p])) return 0;
    ph->type = m->s[p];
    ph->end = p + 1;
    return 1;
}

static size_t char_len(const char *s)
{
    size_t n = 1;
    while (s[n] && !is_char_start((unsigned char)s[n]))
        n++;
    return n;
}

static int match_precision(struct matcher *m, size_t p, struct placeholder *ph)
{
    const char *s = m->s;
    if (s[p] && s[p] != '\n') {
        size_t q = p + char_len(s + p);
        int r = 0;
        if (s[q] == '*') {
            r = match_type(m, q + 1, ph);
        } else if (is_digit(s[q])) {
            /* greedy digits only: a shorter run leaves a digit where the
             * length modifier or type must be */
            size_t d = q;
            while (is_digit(s[q]))
                q++;
            if (!spend(m, q - d)) return -1;
            r = match_type(m, q, ph);
        }
        if (r) return r;
    }
    return match_type(m, p, ph);
}

static int match_width(struct matcher *m, size_t p, struct placeholder *ph)
{
    int r;
    if (m->s[p] == '*') {
        if ((r = match_precision(m, p + 1, ph)) != 0) return r;
    } else if (is_digit(m->s[p])) {
        size_t e = p;
        while (is_digit(m->s[e]))
            e++;
        if (!spend(m, e - p)) return -1;
        for (size_t j = e; j > p; j--)
            if ((r = match_precision(m, j, ph)) != 0) return r;
    }
    return match_precision(m, p, ph);
}

static int match_flags(struct matcher *m, size_t p, struct placeholder *ph)
{
    size_t n = strspn(m->s + p, "#0- +");
    if (!spend(m, n)) return -1;
    for (size_t f = n;; f--) {
        int r = match_width(m, p + f, ph);
        if (r) {
            ph->alternate = r > 0 && memchr(m->s + p, '#', f) != NULL;
            return r;
        }
        if (f == 0) return 0;
    }
}

static int match_python(struct matcher *m, size_t pct, struct placeholder *ph)
{
    const char *s = m->s;
    size_t p = pct + 1;
    ph->key = NULL;
    ph->keylen = 0;
    ph->has_index = false;
    if (s[p] == '(') {
        size_t q = p + 1;
        while (is_word((unsigned char)s[q]))
            q++;
        if (!spend(m, q - p)) return -1;
        if (q > p + 1 && s[q] == ')') {
            int r = match_flags(m, q + 1, ph);
            if (r) {
                ph->key = s + p + 1;
                ph->keylen = q - p - 1;
                return r;
            }
        }
    }
    return match_flags(m, p, ph);
}

/* dynfmt's simple curly placeholder at s[brace]: \{(\w+)?\} — a key of
 * digits is a position. */
static int match_curly(const char *s, size_t brace, struct placeholder *ph)
{
    size_t q = brace + 1;
    while (is_word((unsigned char)s[q]))
        q++;
    if (s[q] != '}') return 0;
    ph->end = q + 1;
    ph->type = 's';
    ph->alternate = false;
    ph->key = NULL;
    ph->keylen = 0;
    ph->has_index = false;
    if (q == brace + 1) return 1;
    /* Rust's usize parse: ASCII digits that fit, else the text is a key */
    size_t index = 0;
    bool digits = true;
    for (size_t i = brace + 1; i < q && digits; i++) {
        size_t digit = (size_t)(s[i] - '0');
        if (!is_digit(s[i]) || index > (SIZE_MAX - digit) / 10)
            digits = false;
        else
            index = index * 10 + digit;
    }
    if (digits) {
        ph->has_index = true;
        ph->index = index;
    } else {
        ph->key = s + brace + 1;
        ph->keylen = q - brace - 1;
    }
    return 1;
}

/* Writes one placeholder's text; false when it has no printable param. */
static bool fill(struct text *t, struct params *params, const struct placeholder *ph)
{
    if (ph->type == '%') {
        text_puts(t, "%");
        return true;
    }
    const cJSON *v;
    if (ph->key)
        v = param_named(params, ph->key, ph->keylen);
    else if (ph->has_index)
        v = param_at(params, ph->index);
    else
        v = param_at(params, params->next++);
    enum conversion conv = conversion_of(ph->type);
    if (!v || !printable(conv, v)) return false;
    put_param(t, conv, ph->alternate, v);
    return true;
}

int normalize_format(const char *tmpl, const cJSON *params, char **out)
{
    *out = NULL;
    if (!cJSON_IsArray(params) && !cJSON_IsObject(params)) return 0;
    bool python = strchr(tmpl, '%') != NULL;
    char open = python ? '%' : '{';
    if (!python && !strchr(tmpl, '{')) return 0;

    size_t len = strlen(tmpl);
    struct matcher m = {tmpl, MATCH_STEPS_MIN + MATCH_STEPS_PER_BYTE * len};
    struct params pv = {.root = params};
    struct text t = {0};
    bool any = false, ok = true;
    size_t from = 0; /* the literal text not yet copied starts here */
    for (const char *hit = strchr(tmpl, open); hit; hit = strchr(hit + 1, open)) {
        size_t at = (size_t)(hit - tmpl);
        struct placeholder ph;
        int r = python ? match_python(&m, at, &ph) : match_curly(tmpl, at, &ph);
        if (r < 0) {
            ok = false;
            break;
        }
        if (r == 0) continue;
        any = true;
        text_put(&t, tmpl + from, at - from);
        if (!fill(&t, &pv, &ph)) {
            ok = false;
            break;
        }
        from = ph.end;
        hit = tmpl + ph.end - 1;
    }
    bool oom = pv.oom || t.oom;
    params_free(&pv);
    if (oom) {
        free(t.data);
        return -ENOMEM;
    }
    if (!ok || !any) {
        free(t.data);
        return 0;
    }
    text_puts(&t, tmpl + from);
    if (!t.data && !t.oom) {
        *out = strdup("");
    } else {
        *out = text_take(&t);
    }
    return *out ? 1 : -ENOMEM;
}
