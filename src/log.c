/* log — see log.h. Formats into a stack buffer and writes the line with one
 * write(2), so concurrent lines never interleave. */
#include "log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

static enum log_format g_format = LOG_FORMAT_JSON;
static bool g_debug = false;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, bool debug)
{
    g_format = format;
    g_debug = debug;
}

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
};

/* Room kept at the end of a line for the closing `"}` and the newline, so a
 * truncated line is still valid JSON. */
#define LOG_LINE_RESERVE 8

/* All or nothing, so an escape sequence is never cut in half. */
static void put(struct line *l, const char *s, size_t n)
{
    if (l->len + n > sizeof l->buf - LOG_LINE_RESERVE) return;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_closing(struct line *l, const char *s)
{
    size_t n = strlen(s);
    assert(l->len + n < sizeof l->buf);
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* JSON string body (without quotes), escaping what JSON requires. */
static void put_escaped(struct line *l, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&s[i], 1);
        }
    }
}

static void timestamp(char out[40])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

/* A field starts at the beginning or after a space, as `identifier=`. */
static const char *field_start(const char *p)
{
    const char *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
           *q == '_' || *q == '.')
        q++;
    return (q > p && *q == '=') ? q : NULL;
}

/* Each field is built on its own and appended whole, or dropped when the
 * line is full, so a long line stays valid JSON. */
static void put_field_json(struct line *l, const char *key, size_t keylen, const char *v,
                           size_t vlen)
{
    static __thread struct line field;
    field.len = 0;
    put_str(&field, ",\"");
    put_escaped(&field, key, keylen);
    put_str(&field, "\":\"");
    put_escaped(&field, v, vlen);
    put_str(&field, "\"");
    put(l, field.buf, field.len);
}

static void put_fields_json(struct line *l, const char *f)
{
    const char *p = f;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p) return;
        const char *eq = field_start(p);
        if (!eq) { /* free text without a key: keep it under "detail" */
            put_field_json(l, "detail", 6, p, strlen(p));
            return;
        }
        const char *v = eq + 1, *end = v;
        for (;;) {
            end = strchr(end, ' ');
            if (!end) {
                end = v + strlen(v);
                break;
            }
            if (field_start(end + 1)) break;
            end++;
        }
        put_field_json(l, p, (size_t)(eq - p), v, (size_t)(end - v));
        p = end;
    }
}

void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
    if (level == LOG_DEBUG && !g_debug) return;
    char fields[LOG_LINE_MAX / 2] = "";
    if (fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        vsnprintf(fields, sizeof fields, fields_fmt, ap);
        va_end(ap);
    }
    char ts[40];
    timestamp(ts);

    struct line l = {.len = 0};
    if (g_format == LOG_FORMAT_JSON) {
        put_str(&l, "{\"time\":\"");
        put_str(&l, ts);
        put_str(&l, "\",\"level\":\"");
        put_str(&l, level_names[level]);
        put_str(&l, "\",\"msg\":\"");
        put_escaped(&l, msg, strlen(msg));
        put_str(&l, "\"");
        put_fields_json(&l, fields);
        put_closing(&l, "}");
    } else {
        put_str(&l, ts);
        put_str(&l, " ");
        put_str(&l, level_names[level]);
        put_str(&l, " ");
        put_str(&l, msg);
        if (fields[0]) {
            put_str(&l, " ");
            put_str(&l, fields);
        }
    }
    l.buf[l.len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, l.buf, l.len);
    (void)ignored;
}
