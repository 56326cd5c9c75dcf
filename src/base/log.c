/* log — see log.h. A line is built in a thread-local buffer and written with
 * one write(2), so concurrent lines never interleave.
 *
 * The fields are cut out of the format string, not out of the formatted
 * text: each field's part of the format is expanded on its own (one
 * conversion at a time, with the argument type its length modifier names),
 * so nothing a value contains can end it or start another field. */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

#define LOG_VALUE_MAX 4096 /* bytes of one expanded value, before escaping */
#define LOG_LINE_CLOSE 4   /* kept free at the end of a line for `}` and the newline */
#define ELLIPSIS "\xe2\x80\xa6"
#define ELLIPSIS_LEN 3
#define ESCAPE_MAX 6 /* the longest escape of one unit: \u00XX, \ufffd */
#define SPEC_MAX 48  /* one conversion rebuilt: flags, width, precision, length */
#define NUMBER_MAX 9999

static enum log_format g_format = LOG_FORMAT_JSON;
static bool g_debug = false;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, bool debug)
{
    g_format = format;
    g_debug = debug;
}

bool log_enabled(enum log_level level)
{
    return level != LOG_DEBUG || g_debug;
}

/* ---- the line ---------------------------------------------------------- */

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool full; /* a field did not fit: no more fields */
};

static size_t room(const struct line *l)
{
    return sizeof l->buf - LOG_LINE_CLOSE - l->len;
}

/* All or nothing, so structure is never cut in half. */
static bool put(struct line *l, const char *s, size_t n)
{
    if (n > room(l)) {
        l->full = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

static bool put_str(struct line *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start one (a stray continuation byte, an overlong form, a surrogate, a
 * code point past U+10FFFF, or a sequence cut short). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

enum escape_style {
    ESCAPE_JSON, /* a JSON string body */
    ESCAPE_TEXT, /* inside a quoted text value: C-like escapes */
    ESCAPE_BARE, /* text outside quotes (the message): controls only */
};

/* The escaped form of the unit at s into out; its source length in *used. */
static size_t escape_unit(enum escape_style style, const unsigned char *s, size_t n, char *out,
                          size_t *used)
{
    size_t len = utf8_len(s, n);
    unsigned char c = s[0];
    *used = len ? len : 1;
    if (len == 0)
        return style == ESCAPE_JSON ? (size_t)snprintf(out, ESCAPE_MAX + 1, "\\ufffd")
                                    : (size_t)snprintf(out, ESCAPE_MAX + 1, "\\x%02x", c);
    if (len > 1) {
        memcpy(out, s, len);
        return len;
    }
    if ((c == '"' || c == '\\') && style != ESCAPE_BARE) {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c >= 0x20 && c != 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
    if (named) {
        memcpy(out, named, 2);
        return 2;
    }
    return style == ESCAPE_JSON ? (size_t)snprintf(out, ESCAPE_MAX + 1, "\\u%04x", c)
                                : (size_t)snprintf(out, ESCAPE_MAX + 1, "\\x%02x", c);
}

/* Appends s escaped, keeping `reserve` bytes free after it; when it does
 * not fit (or cut is set: the value was cut before), it ends with "…". */
static void put_escaped(struct line *l, enum escape_style style, const char *s, size_t n,
                        size_t reserve, bool cut)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        char esc[ESCAPE_MAX + 1];
        size_t used, elen = escape_unit(style, p + i, n - i, esc, &used);
        if (elen + ELLIPSIS_LEN + reserve > room(l)) {
            cut = true;
            break;
        }
        memcpy(l->buf + l->len, esc, elen);
        l->len += elen;
        i += used;
    }
    if (cut && ELLIPSIS_LEN + reserve <= room(l)) put(l, ELLIPSIS, ELLIPSIS_LEN);
}

/* A text value goes bare when a reader cannot mistake where it ends. */
static bool text_needs_quotes(const char *s, size_t n)
{
    if (n == 0) return true;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = utf8_len((const unsigned char *)s + i, n - i);
        if (len == 0 || c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f) return true;
        i += len;
    }
    return false;
}

/* ---- one value, expanded from its part of the format ---------------------- */

struct value {
    char buf[LOG_VALUE_MAX + 1];
    size_t len;
    bool cut;
};

static void value_add(struct value *v, const char *s, size_t n)
{
    size_t left = LOG_VALUE_MAX - v->len;
    if (n > left) {
        n = left;
        v->cut = true;
    }
    memcpy(v->buf + v->len, s, n);
    v->len += n;
}

/* Records what snprintf into the value's tail did. */
static void value_grew(struct value *v, int n)
{
    size_t left = LOG_VALUE_MAX - v->len;
    if (n < 0) return;
    if ((size_t)n > left) {
        v->len = LOG_VALUE_MAX;
        v->cut = true;
    } else {
        v->len += (size_t)n;
    }
}

enum length_mod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

static enum length_mod length_mod(const char **pp)
{
    const char *p = *pp;
    enum length_mod m = LEN_NONE;
    if (p[0] == 'h' && p[1] == 'h')
        m = LEN_HH, p += 2;
    else if (p[0] == 'l' && p[1] == 'l')
        m = LEN_LL, p += 2;
    else if (*p == 'h')
        m = LEN_H, p++;
    else if (*p == 'l')
        m = LEN_L, p++;
    else if (*p == 'j')
        m = LEN_J, p++;
    else if (*p == 'z')
        m = LEN_Z, p++;
    else if (*p == 't')
        m = LEN_T, p++;
    else if (*p == 'L')
        m = LEN_BIG_L, p++;
    *pp = p;
    return m;
}

/* A width or precision: `*` (an int argument) or digits. False when absent. */
static bool number(const char **pp, va_list *ap, int *out)
{
    const char *p = *pp;
    long n = 0;
    bool present = true;
    if (*p == '*') {
        n = va_arg(*ap, int);
        p++;
    } else if (*p >= '0' && *p <= '9') {
        for (; *p >= '0' && *p <= '9'; p++)
            if (n <= NUMBER_MAX) n = n * 10 + (*p - '0');
    } else {
        present = false;
    }
    *pp = p;
    *out = n > NUMBER_MAX ? NUMBER_MAX : n < -NUMBER_MAX ? -NUMBER_MAX : (int)n;
    return present;
}

/* Expands the conversion at *pp (a '%') into v, taking its arguments from
 * ap, and moves *pp past it. False for a conversion it cannot type (then
 * the arguments that follow cannot be found either). */
static bool convert(struct value *v, const char **pp, va_list *ap)
{
    const char *p = *pp + 1;
    if (*p == '%') {
        value_add(v, "%", 1);
        *pp = p + 1;
        return true;
    }
    char spec[SPEC_MAX];
    size_t n = 0;
    spec[n++] = '%';
    while (*p && strchr("-+ #0", *p)) {
        if (n < 8) spec[n++] = *p;
        p++;
    }
    int width, prec = 0;
    if (number(&p, ap, &width)) n += (size_t)snprintf(spec + n, sizeof spec - n, "%d", width);
    if (*p == '.') {
        p++;
        number(&p, ap, &prec); /* "%.s" is precision 0; a negative `*` means none */
        if (prec >= 0) n += (size_t)snprintf(spec + n, sizeof spec - n, ".%d", prec);
    }
    const char *len_start = p;
    enum length_mod len = length_mod(&p);
    char conv = *p;
    if (conv) p++;
    *pp = p;
    memcpy(spec + n, len_start, (size_t)(p - len_start));
    n += (size_t)(p - len_start);
    spec[n] = '\0';

    char *out = v->buf + v->len;
    size_t left = LOG_VALUE_MAX - v->len + 1;
    int w;
    switch (conv) {
    case 'd':
    case 'i':
        switch (len) {
        case LEN_L:
            w = snprintf(out, left, spec, va_arg(*ap, long));
            break;
        case LEN_LL:
            w = snprintf(out, left, spec, va_arg(*ap, long long));
            break;
        case LEN_J:
            w = snprintf(out, left, spec, va_arg(*ap, intmax_t));
            break;
        case LEN_Z:
            w = snprintf(out, left, spec, va_arg(*ap, ssize_t));
            break;
        case LEN_T:
            w = snprintf(out, left, spec, va_arg(*ap, ptrdiff_t));
            break;
        default:
            w = snprintf(out, left, spec, va_arg(*ap, int));
            break;
        }
        break;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        switch (len) {
        case LEN_L:
            w = snprintf(out, left, spec, va_arg(*ap, unsigned long));
            break;
        case LEN_LL:
            w = snprintf(out, left, spec, va_arg(*ap, unsigned long long));
            break;
        case LEN_J:
            w = snprintf(out, left, spec, va_arg(*ap, uintmax_t));
            break;
        case LEN_Z:
            w = snprintf(out, left, spec, va_arg(*ap, size_t));
            break;
        case LEN_T:
            w = snprintf(out, left, spec, va_arg(*ap, ptrdiff_t));
            break;
        default:
            w = snprintf(out, left, spec, va_arg(*ap, unsigned));
            break;
        }
        break;
    case 'c':
        if (len != LEN_NONE) return false;
        w = snprintf(out, left, spec, va_arg(*ap, int));
        break;
    case 's': {
        if (len != LEN_NONE) return false;
        const char *s = va_arg(*ap, const char *);
        w = snprintf(out, left, spec, s ? s : "(null)");
        break;
    }
    case 'p':
        w = snprintf(out, left, spec, va_arg(*ap, void *));
        break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        if (len == LEN_BIG_L)
            w = snprintf(out, left, spec, va_arg(*ap, long double));
        else
            w = snprintf(out, left, spec, va_arg(*ap, double));
        break;
    default:
        return false; /* %n, wide strings, unknown */
    }
    value_grew(v, w);
    return true;
}

/* The name of a field at p: its length when p starts `name=`, else 0. */
static size_t field_name(const char *p)
{
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
           (p[n] >= '0' && p[n] <= '9') || p[n] == '_' || p[n] == '.')
        n++;
    return n > 0 && p[n] == '=' ? n : 0;
}

/* Expands the value that starts at *pp, up to the next field of the format
 * (keyed) or the end (the free-text "detail"). False when a conversion
 * cannot be typed. */
static bool expand_value(struct value *v, const char **pp, bool keyed, va_list *ap)
{
    const char *p = *pp;
    v->len = 0;
    v->cut = false;
    bool ok = true;
    while (*p && ok) {
        if (*p == '%') {
            ok = convert(v, &p, ap);
            continue;
        }
        if (*p == ' ' && keyed && field_name(p + 1)) break;
        const char *lit = p;
        while (*p && *p != '%' && !(*p == ' ' && keyed && field_name(p + 1)))
            p++;
        value_add(v, lit, (size_t)(p - lit));
    }
    *pp = p;
    return ok;
}

/* ---- the two formats --------------------------------------------------- */

static void put_field(struct line *l, const char *key, size_t keylen, const struct value *v)
{
    /* The key and the smallest value ("…" and its quotes) must fit, or
     * the line takes no more fields. */
    if (l->full || keylen + 8 + ELLIPSIS_LEN > room(l)) {
        l->full = true;
        return;
    }
    if (g_format == LOG_FORMAT_JSON) {
        put(l, ",\"", 2);
        put(l, key, keylen);
        put(l, "\":\"", 3);
        put_escaped(l, ESCAPE_JSON, v->buf, v->len, 1, v->cut);
        put(l, "\"", 1);
        return;
    }
    put(l, " ", 1);
    put(l, key, keylen);
    put(l, "=", 1);
    if (!text_needs_quotes(v->buf, v->len)) {
        put_escaped(l, ESCAPE_BARE, v->buf, v->len, 0, v->cut);
        return;
    }
    put(l, "\"", 1);
    put_escaped(l, ESCAPE_TEXT, v->buf, v->len, 1, v->cut);
    put(l, "\"", 1);
}

static void put_fields(struct line *l, const char *fmt, va_list *ap)
{
    static __thread struct value v;
    const char *p = fmt;
    while (*p && !l->full) {
        while (*p == ' ')
            p++;
        if (!*p) break;
        size_t keylen = field_name(p);
        const char *key = keylen ? p : "detail";
        p += keylen ? keylen + 1 : 0;
        bool ok = expand_value(&v, &p, keylen > 0, ap);
        put_field(l, key, keylen ? keylen : strlen(key), &v);
        if (!ok) return; /* the arguments after an untyped conversion are unknown */
    }
}

static void timestamp(char out[40])
{
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03dZ", (int)(ms % 1000));
}

void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
    if (!log_enabled(level)) return;
    static __thread struct line l;
    char ts[40];
    timestamp(ts);
    l.len = 0;
    l.full = false;
    if (g_format == LOG_FORMAT_JSON) {
        put_str(&l, "{\"time\":\"");
        put_str(&l, ts);
        put_str(&l, "\",\"level\":\"");
        put_str(&l, level_names[level]);
        put_str(&l, "\",\"msg\":\"");
        put_escaped(&l, ESCAPE_JSON, msg, strlen(msg), 1, false);
        put(&l, "\"", 1);
    } else {
        put_str(&l, ts);
        put_str(&l, " ");
        put_str(&l, level_names[level]);
        put_str(&l, " ");
        put_escaped(&l, ESCAPE_BARE, msg, strlen(msg), 0, false);
    }
    if (fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        put_fields(&l, fields_fmt, &ap);
        va_end(ap);
    }
    /* LOG_LINE_CLOSE bytes are always free for these two. */
    if (g_format == LOG_FORMAT_JSON) l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, l.buf, l.len);
    (void)ignored;
}

/* ---- rate limit -------------------------------------------------------- */

struct rate_slot {
    const char *key; /* static; NULL: free */
    int64_t second;  /* the window the count is for */
    unsigned in_second;
    uint64_t suppressed; /* refused since the last admitted line */
};

static struct rate_slot rate_slots[LOG_RATE_KEYS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

/* The key's slot, a free one, or (table full) the last one, shared. */
static struct rate_slot *rate_slot(const char *key)
{
    for (size_t i = 0; i < LOG_RATE_KEYS; i++) {
        struct rate_slot *s = &rate_slots[i];
        if (!s->key) s->key = key;
        if (s->key == key || strcmp(s->key, key) == 0) return s;
    }
    return &rate_slots[LOG_RATE_KEYS - 1];
}

bool log_rate_admit_at(const char *key, int64_t now_ms, uint64_t *suppressed)
{
    int64_t second = now_ms / 1000;
    pthread_mutex_lock(&rate_lock);
    struct rate_slot *s = rate_slot(key);
    if (s->second != second) {
        s->second = second;
        s->in_second = 0;
    }
    bool admit = s->in_second < LOG_RATE_PER_SECOND;
    if (admit) {
        s->in_second++;
        *suppressed = s->suppressed;
        s->suppressed = 0;
    } else {
        s->suppressed++;
    }
    pthread_mutex_unlock(&rate_lock);
    return admit;
}

bool log_rate_admit(const char *key, uint64_t *suppressed)
{
    return log_rate_admit_at(key, clock_mono_ms(), suppressed);
}
