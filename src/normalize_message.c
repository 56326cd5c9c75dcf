/* normalize_message — see normalize_message.h. */
#include "normalize_message.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    FORMATTED_MAX_BYTES = 8192,
    /* Bounds on the work of one format: the conversions done (the rest of
     * the template is copied as it is) and the members of a params object
     * a name is looked up among (each lookup walks them). */
    FORMAT_MAX_CONVERSIONS = 1024,
    FORMAT_MAX_NAMED = 1024,
};

struct sbuf {
    char data[FORMATTED_MAX_BYTES + 1];
    size_t len;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (n > FORMATTED_MAX_BYTES - b->len) n = FORMATTED_MAX_BYTES - b->len;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sbuf_put_value(struct sbuf *b, const cJSON *v)
{
    char num[40];
    if (cJSON_IsString(v)) {
        sbuf_put(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        sbuf_put(b, num, strlen(num));
    } else if (cJSON_IsBool(v)) {
        sbuf_put(b, cJSON_IsTrue(v) ? "True" : "False", cJSON_IsTrue(v) ? 4 : 5);
    } else if (cJSON_IsNull(v)) {
        sbuf_put(b, "None", 4);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        if (s) {
            sbuf_put(b, s, strlen(s));
            free(s);
        }
    }
}

/* Length of a conversion spec after '%' (flags, width, precision, type), 0
 * when it is not one. */
static size_t spec_len(const char *p)
{
    size_t i = strspn(p, "-+ #0123456789.");
    return strchr("sdirfgeExXoc", p[i]) && p[i] ? i + 1 : 0;
}

/* params[key] among its first FORMAT_MAX_NAMED members, or NULL. */
static const cJSON *named_param(const cJSON *params, const char *key)
{
    int seen = 0;
    for (const cJSON *m = params->child; m && seen < FORMAT_MAX_NAMED; m = m->next, seen++)
        if (m->string && strcmp(m->string, key) == 0) return m;
    return NULL;
}

/* Python-style %-formatting of tmpl with params; false when tmpl has no
 * conversion the params can fill (then the template is the text). One pass
 * over tmpl: positional params are walked with the template, the ')' of a
 * "%(name)" is searched again only once passed. */
static bool format_params(const char *tmpl, const cJSON *params, struct sbuf *out)
{
    const cJSON *next_param = cJSON_IsArray(params) ? params->child : NULL;
    const char *close_at = NULL; /* the first ')' at or after p, once looked for */
    bool no_close = false;       /* no ')' left in tmpl */
    int conversions = 0;
    bool used = false;
    out->len = 0;
    out->data[0] = '\0';
    for (const char *p = tmpl; *p;) {
        const char *pct = conversions < FORMAT_MAX_CONVERSIONS ? strchr(p, '%') : NULL;
        if (!pct) {
            sbuf_put(out, p, strlen(p));
            break;
        }
        sbuf_put(out, p, (size_t)(pct - p));
        p = pct + 1;
        if (*p == '%') {
            sbuf_put(out, "%", 1);
            p++;
            continue;
        }
        const cJSON *v = NULL;
        if (*p == '(' && cJSON_IsObject(params) && !no_close) {
            if (!close_at || close_at < p) close_at = strchr(p, ')');
            no_close = !close_at;
            if (close_at) {
                char key[128];
                size_t klen = (size_t)(close_at - p - 1);
                if (klen < sizeof(key)) {
                    memcpy(key, p + 1, klen);
                    key[klen] = '\0';
                    size_t sl = spec_len(close_at + 1);
                    v = sl ? named_param(params, key) : NULL;
                    if (v) p = close_at + 1 + sl;
                }
            }
        } else if (next_param) {
            size_t sl = spec_len(p);
            v = sl ? next_param : NULL;
            if (v) {
                next_param = next_param->next;
                p += sl;
            }
        }
        if (v) {
            sbuf_put_value(out, v);
            used = true;
            conversions++;
        } else {
            sbuf_put(out, "%", 1);
        }
    }
    return used;
}

/* A message value as text: strings as they are, numbers printed; NULL for
 * anything else. Writes numbers into num. */
static const char *as_text(const cJSON *v, char *num, size_t numlen)
{
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(num, numlen, "%.17g", v->valuedouble);
        return num;
    }
    return NULL;
}

static cJSON *find_source(cJSON *root)
{
    static const char *const keys[] = {"logentry", "sentry.interfaces.Message", "message"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (v && !cJSON_IsNull(v)) return v;
    }
    return NULL;
}

static int build_logentry(cJSON *src, cJSON **out)
{
    struct sbuf tbuf; /* 8 KiB on the worker's stack, only read below */
    char n1[40], n2[40];
    const char *formatted = NULL, *tmpl = NULL;
    cJSON *params = NULL;
    if (cJSON_IsObject(src)) {
        formatted = as_text(cJSON_GetObjectItemCaseSensitive(src, "formatted"), n1, sizeof(n1));
        tmpl = as_text(cJSON_GetObjectItemCaseSensitive(src, "message"), n2, sizeof(n2));
        params = cJSON_GetObjectItemCaseSensitive(src, "params");
        if (!formatted && tmpl) {
            formatted = tmpl;
            if (params && format_params(tmpl, params, &tbuf)) formatted = tbuf.data;
        }
    } else {
        formatted = as_text(src, n1, sizeof(n1));
    }
    *out = NULL;
    if (!formatted) return 0;
    cJSON *le = cJSON_CreateObject();
    if (!le || !cJSON_AddStringToObject(le, "formatted", formatted) ||
        (tmpl && !cJSON_AddStringToObject(le, "message", tmpl)))
        goto fail;
    if (params) {
        cJSON_DetachItemViaPointer(src, params);
        cJSON_AddItemToObject(le, "params", params);
    }
    *out = le;
    return 0;
fail:
    cJSON_Delete(le);
    return -ENOMEM;
}

int normalize_message(cJSON *root)
{
    cJSON *src = find_source(root);
    if (!src) return 0;
    cJSON *le;
    int rc = build_logentry(src, &le);
    if (rc != 0) return rc;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "sentry.interfaces.Message");
    if (!le) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "logentry");
        return 0;
    }
    cJSON *msg = cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(le, "formatted")->valuestring);
    if (!msg) {
        cJSON_Delete(le);
        return -ENOMEM;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "logentry");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "message");
    cJSON_AddItemToObject(root, "logentry", le);
    cJSON_AddItemToObject(root, "message", msg);
    return 0;
}
