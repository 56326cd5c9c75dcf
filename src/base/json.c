/* base/json — json_build, json_print and the setters (see json.h). */
#include "base/json.h"
#include "base/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *json_new_strn(const char *s, size_t n)
{
    if (!s) return NULL;
    const char *nul = memchr(s, '\0', n);
    if (nul) n = (size_t)(nul - s);
    char *fixed = NULL;
    size_t fixed_len = 0;
    int rc = utf8_repair(s, n, &fixed, &fixed_len);
    if (rc < 0) return NULL;
    if (rc == 1) {
        s = fixed;
        n = fixed_len;
    }
    char *copy = malloc(n + 1);
    cJSON *v = NULL;
    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
        v = cJSON_CreateString(copy);
        free(copy);
    }
    free(fixed);
    return v;
}

int json_set(cJSON *obj, const char *key, cJSON *v)
{
    if (!v) return -1;
    if (!cJSON_IsObject(obj) || !key) {
        cJSON_Delete(v);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
        if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v)) return 0;
    } else if (cJSON_AddItemToObject(obj, key, v)) {
        return 0;
    }
    cJSON_Delete(v);
    return -1;
}

int json_push(cJSON *arr, cJSON *v)
{
    if (!v) return -1;
    if (!cJSON_IsArray(arr) || !cJSON_AddItemToArray(arr, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

/* ---- parsing with a reason ---------------------------------------------- */

/* The first object (depth first) that names a member twice, or NULL. The
 * tree's depth is bounded by cJSON's nesting limit. */
static const char *duplicate_key(const cJSON *v)
{
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(v) && c->string)
            for (const cJSON *d = c->next; d; d = d->next)
                if (d->string && strcmp(c->string, d->string) == 0) return c->string;
        const char *dup = duplicate_key(c);
        if (dup) return dup;
    }
    return NULL;
}

/* The first "\u0000" escape in buf[0..len) (a string holding NUL, which
 * a C string cannot carry: cJSON would cut it there), or NULL. */
static const char *nul_escape(const char *buf, size_t len)
{
    for (size_t i = 1; i + 5 <= len; i++) {
        if (memcmp(buf + i, "u0000", 5) != 0) continue;
        size_t slashes = 0;
        while (slashes < i && buf[i - 1 - slashes] == '\\')
            slashes++;
        if (slashes % 2) return buf + i - 1;
    }
    return NULL;
}

cJSON *json_parse_checked(const char *buf, size_t len, char *why, size_t whylen)
{
    if (!buf || len == 0) {
        snprintf(why, whylen, "empty text (line 1, column 1)");
        return NULL;
    }
    const char *end = NULL;
    const char *nul = nul_escape(buf, len);
    cJSON *v = nul ? NULL : cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    const char *stop = buf + len;
    const char *what = "invalid syntax";
    if (nul) {
        what = "\\u0000 is not allowed in a string";
        end = nul;
    } else if (v) {
        while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end && end < stop) {
            what = "end of text expected";
            cJSON_Delete(v);
            v = NULL;
        } else {
            const char *dup = duplicate_key(v);
            if (!dup) return v;
            snprintf(why, whylen, "duplicate object key \"%.64s\"", dup);
            cJSON_Delete(v);
            return NULL;
        }
    }
    if (!end || end < buf || end > stop) end = stop;
    int line = 1, column = 1;
    for (const char *p = buf; p < end; p++) {
        if (*p == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    snprintf(why, whylen, "%s (line %d, column %d)", what, line, column);
    return NULL;
}

/* ---- json_build ----------------------------------------------------------- */

struct builder {
    const char *f;
    va_list *ap;
    bool failed;
};

static void skip_separators(struct builder *b)
{
    while (*b->f == ' ' || *b->f == ':' || *b->f == ',' || *b->f == '\t' || *b->f == '\n')
        b->f++;
}

/* One value at b->f; *omit when "o*" had NULL. NULL on failure (b->failed
 * set), the arguments still consumed so that every "o" is freed. */
static cJSON *build_value(struct builder *b, bool *omit);

static cJSON *build_container(struct builder *b, bool object)
{
    char close = object ? '}' : ']';
    cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!c) b->failed = true;
    for (;;) {
        skip_separators(b);
        if (*b->f == close) {
            b->f++;
            break;
        }
        if (!*b->f) {
            b->failed = true;
            break;
        }
        const char *key = NULL;
        if (object) {
            if (*b->f != 's') {
                b->failed = true;
                break;
            }
            b->f++;
            key = va_arg(*b->ap, const char *);
            if (!key) b->failed = true;
            skip_separators(b);
        }
        bool omit = false;
        cJSON *v = build_value(b, &omit);
        if (omit) continue;
        if (!v || b->failed || !c) {
            cJSON_Delete(v);
            b->failed = true;
            continue;
        }
        if (object ? !cJSON_AddItemToObject(c, key, v) : !cJSON_AddItemToArray(c, v)) {
            cJSON_Delete(v);
            b->failed = true;
        }
    }
    return c;
}

static cJSON *build_value(struct builder *b, bool *omit)
{
    char t = *b->f ? *b->f++ : '\0';
    switch (t) {
    case '{':
    case '[':
        return build_container(b, t == '{');
    case 's': {
        const char *s = va_arg(*b->ap, const char *);
        if (*b->f == '%') {
            b->f++;
            size_t n = va_arg(*b->ap, size_t);
            cJSON *v = json_new_strn(s, n);
            if (!v) b->failed = true;
            return v;
        }
        bool nullable = *b->f == '?';
        if (nullable) b->f++;
        cJSON *v = s ? json_new_str(s) : nullable ? cJSON_CreateNull() : NULL;
        if (!v) b->failed = true;
        return v;
    }
    case 'o':
    case 'O': {
        cJSON *o = va_arg(*b->ap, cJSON *);
        char mod = *b->f == '?' || *b->f == '*' ? *b->f++ : '\0';
        if (!o && mod == '*') {
            *omit = true;
            return NULL;
        }
        cJSON *v = !o ? (mod ? cJSON_CreateNull() : NULL) : t == 'o' ? o : json_dup(o);
        if (!v) b->failed = true;
        return v;
    }
    case 'i': {
        cJSON *v = json_new_int(va_arg(*b->ap, int));
        if (!v) b->failed = true;
        return v;
    }
    case 'I': {
        cJSON *v = json_new_int(va_arg(*b->ap, int64_t));
        if (!v) b->failed = true;
        return v;
    }
    case 'b': {
        cJSON *v = cJSON_CreateBool(va_arg(*b->ap, int));
        if (!v) b->failed = true;
        return v;
    }
    case 'f': {
        cJSON *v = cJSON_CreateNumber(va_arg(*b->ap, double));
        if (!v) b->failed = true;
        return v;
    }
    case 'n': {
        cJSON *v = cJSON_CreateNull();
        if (!v) b->failed = true;
        return v;
    }
    default:
        b->failed = true;
        return NULL;
    }
}

cJSON *json_build(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct builder b = {.f = fmt, .ap = &ap, .failed = false};
    skip_separators(&b);
    bool omit = false;
    cJSON *v = build_value(&b, &omit);
    va_end(ap);
    if (b.failed || omit) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* ---- json_print ----------------------------------------------------------- */

struct out {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(o->buf, cap);
        if (!grown) {
            o->oom = true;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_string_valid(struct out *o, const char *s);

static void put_string(struct out *o, const char *s)
{
    /* A string made by cJSON_CreateString directly may hold invalid UTF-8:
     * printed repaired, so no answer carries it. */
    char *fixed = NULL;
    size_t fixed_len;
    if (utf8_repair(s, strlen(s), &fixed, &fixed_len) == 1) s = fixed;
    put_string_valid(o, s);
    free(fixed);
}

static void put_string_valid(struct out *o, const char *s)
{
    put(o, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
        put(o, run, (size_t)((const char *)p - run));
        char esc[8];
        switch (*p) {
        case '"':
            puts_(o, "\\\"");
            break;
        case '\\':
            puts_(o, "\\\\");
            break;
        case '\b':
            puts_(o, "\\b");
            break;
        case '\f':
            puts_(o, "\\f");
            break;
        case '\n':
            puts_(o, "\\n");
            break;
        case '\r':
            puts_(o, "\\r");
            break;
        case '\t':
            puts_(o, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)*p);
            puts_(o, esc);
        }
        run = (const char *)p + 1;
    }
    puts_(o, run);
    put(o, "\"", 1);
}

static void put_number(struct out *o, double d)
{
    char num[40];
    if (!isfinite(d)) {
        puts_(o, "null");
        return;
    }
    if (fabs(d) <= JSON_INT_MAX && d == trunc(d)) {
        snprintf(num, sizeof num, "%lld", (long long)d);
    } else {
        snprintf(num, sizeof num, "%.17g", d);
        if (!strpbrk(num, ".eE")) strcat(num, ".0");
    }
    puts_(o, num);
}

static int by_name(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static void newline(struct out *o, int indent, int depth)
{
    put(o, "\n", 1);
    for (int i = 0; i < indent * depth; i++)
        put(o, " ", 1);
}

/* Recursion is bounded by the tree's depth: cJSON's nesting limit for a
 * parsed tree, the code's own shape for a built one. */
static void put_value(struct out *o, const cJSON *v, int flags, int depth)
{
    int indent = (flags >> 8) & 0x1f;
    if (cJSON_IsString(v)) {
        put_string(o, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsNumber(v)) {
        put_number(o, v->valuedouble);
    } else if (cJSON_IsTrue(v)) {
        puts_(o, "true");
    } else if (cJSON_IsFalse(v)) {
        puts_(o, "false");
    } else if (cJSON_IsRaw(v)) {
        puts_(o, v->valuestring ? v->valuestring : "null");
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool object = cJSON_IsObject(v);
        size_t n = json_size(v);
        put(o, object ? "{" : "[", 1);
        const cJSON **items = NULL;
        if (n && object && (flags & JSON_PRINT_SORT)) {
            items = malloc(n * sizeof *items);
            if (!items) {
                o->oom = true;
                return;
            }
            size_t i = 0;
            for (const cJSON *c = v->child; c; c = c->next)
                items[i++] = c;
            qsort(items, n, sizeof *items, by_name);
        }
        const cJSON *c = v->child;
        for (size_t i = 0; i < n; i++, c = c ? c->next : NULL) {
            const cJSON *item = items ? items[i] : c;
            if (i) puts_(o, indent ? "," : (flags & JSON_PRINT_SPACED) ? ", " : ",");
            if (indent) newline(o, indent, depth + 1);
            if (object) {
                put_string(o, item->string ? item->string : "");
                puts_(o, indent || (flags & JSON_PRINT_SPACED) ? ": " : ":");
            }
            put_value(o, item, flags, depth + 1);
        }
        free(items);
        if (indent && n) newline(o, indent, depth);
        put(o, object ? "}" : "]", 1);
    } else {
        puts_(o, "null");
    }
}

char *json_print(const cJSON *v, int flags)
{
    if (!v) return NULL;
    struct out o = {0};
    put_value(&o, v, flags, 0);
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
