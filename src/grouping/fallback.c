/* grouping/fallback — see fallback.h. */
#include "grouping/fallback.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "event.h"

enum { TITLE_MAX_BYTES = 1024 };

/* MD5 over values fed in order (Sentry's hash_from_values). Kept static and
 * named apart from grouping/hash.c, which owns the shared hash function. */
struct fallback_md5 {
    EVP_MD_CTX *ctx;
};

static int fallback_md5_begin(struct fallback_md5 *h)
{
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        return -ENOMEM;
    }
    return 0;
}

static void fallback_md5_feed(struct fallback_md5 *h, const char *s)
{
    EVP_DigestUpdate(h->ctx, s, strlen(s));
}

static void fallback_md5_end(struct fallback_md5 *h, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    EVP_MD_CTX_free(h->ctx);
    for (unsigned int i = 0; i < n && i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[32] = '\0';
}

static const char *str_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static const cJSON *exception_values(const cJSON *root)
{
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "exception");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(ex, "values");
    return cJSON_IsArray(values) && cJSON_GetArraySize(values) > 0 ? values : NULL;
}

static const char *message_template(const cJSON *root)
{
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(root, "logentry");
    const char *s = str_member(le, "message");
    if (!s)
        s = str_member(le, "formatted");
    if (!s)
        s = str_member(root, "message");
    return s;
}

/* The default components; returns whether any value was fed. */
static bool feed_default(struct fallback_md5 *h, const cJSON *root)
{
    const cJSON *values = exception_values(root);
    bool fed = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, values) {
        const char *type = str_member(e, "type"), *value = str_member(e, "value");
        if (type) {
            fallback_md5_feed(h, type);
            fed = true;
        }
        if (value) {
            fallback_md5_feed(h, value);
            fed = true;
        }
    }
    if (fed)
        return true;
    const char *msg = message_template(root);
    if (msg) {
        fallback_md5_feed(h, msg);
        return true;
    }
    return false;
}

/* "{{ default }}" with any inner spacing and case. */
static bool is_default_variable(const char *s)
{
    static const char want[] = "{{default}}";
    size_t j = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        if (j >= sizeof(want) - 1 || tolower((unsigned char)*s) != want[j])
            return false;
        j++;
    }
    return j == sizeof(want) - 1;
}

static bool feed_fingerprint(struct fallback_md5 *h, const cJSON *root)
{
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(root, "fingerprint");
    if (!cJSON_IsArray(fp) || cJSON_GetArraySize(fp) == 0)
        return false;
    const cJSON *v;
    char num[40];
    cJSON_ArrayForEach(v, fp) {
        if (cJSON_IsString(v) && is_default_variable(v->valuestring)) {
            feed_default(h, root);
        } else if (cJSON_IsString(v)) {
            fallback_md5_feed(h, v->valuestring);
        } else if (cJSON_IsNumber(v)) {
            snprintf(num, sizeof(num), "%.17g", v->valuedouble);
            fallback_md5_feed(h, num);
        }
    }
    return true;
}

/* Copies at most max bytes of s (up to its first newline when first_line),
 * never cutting a UTF-8 sequence. */
static size_t clip(const char *s, size_t max, bool first_line)
{
    size_t n = first_line ? strcspn(s, "\r\n") : strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static char *make_title(const cJSON *root)
{
    const cJSON *values = exception_values(root);
    const cJSON *main_ex = values ? cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1) : NULL;
    const cJSON *mech = cJSON_GetObjectItemCaseSensitive(main_ex, "mechanism");
    bool synthetic = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mech, "synthetic"));
    const char *type = synthetic ? NULL : str_member(main_ex, "type");
    const char *value = synthetic ? NULL : str_member(main_ex, "value");
    const char *msg = str_member(cJSON_GetObjectItemCaseSensitive(root, "logentry"), "formatted");
    if (!msg)
        msg = str_member(root, "message");
    char buf[TITLE_MAX_BYTES + 1];
    if (type && value) {
        size_t tn = clip(type, TITLE_MAX_BYTES / 2, true);
        size_t vn = clip(value, TITLE_MAX_BYTES - tn - 2, true);
        snprintf(buf, sizeof(buf), "%.*s: %.*s", (int)tn, type, (int)vn, value);
    } else if (type || value) {
        const char *s = type ? type : value;
        snprintf(buf, sizeof(buf), "%.*s", (int)clip(s, TITLE_MAX_BYTES, true), s);
    } else if (msg) {
        snprintf(buf, sizeof(buf), "%.*s", (int)clip(msg, TITLE_MAX_BYTES, true), msg);
    } else {
        snprintf(buf, sizeof(buf), "<unlabeled event>");
    }
    return strdup(buf);
}

/* The innermost in-app frame of the main exception (frames run outermost
 * first), else its innermost frame. */
static const cJSON *culprit_frame(const cJSON *root)
{
    const cJSON *values = exception_values(root);
    if (!values)
        return NULL;
    const cJSON *main_ex = cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(main_ex, "stacktrace");
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(st, "frames");
    int n = cJSON_IsArray(frames) ? cJSON_GetArraySize(frames) : 0;
    if (n == 0)
        return NULL;
    /* cJSON arrays are linked lists: walk once, remember the last matches. */
    const cJSON *f, *last = NULL, *last_in_app = NULL;
    cJSON_ArrayForEach(f, frames) {
        last = f;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "in_app")))
            last_in_app = f;
    }
    return last_in_app ? last_in_app : last;
}

static char *make_culprit(const cJSON *root)
{
    const cJSON *f = culprit_frame(root);
    const char *where = f ? str_member(f, "module") : NULL;
    if (f && !where)
        where = str_member(f, "filename");
    const char *fn = f ? str_member(f, "function") : NULL;
    char buf[TITLE_MAX_BYTES + 1];
    if (where && fn)
        snprintf(buf, sizeof(buf), "%s in %s", where, fn);
    else if (where || fn)
        snprintf(buf, sizeof(buf), "%s", where ? where : fn);
    else if (str_member(root, "culprit"))
        snprintf(buf, sizeof(buf), "%s", str_member(root, "culprit"));
    else if (str_member(root, "transaction"))
        snprintf(buf, sizeof(buf), "%s", str_member(root, "transaction"));
    else
        buf[0] = '\0';
    return strdup(buf);
}

int grouping_fallback(struct ingest_event *ev)
{
    struct fallback_md5 h;
    if (fallback_md5_begin(&h) != 0)
        return -ENOMEM;
    if (!feed_fingerprint(&h, ev->json))
        feed_default(&h, ev->json);
    fallback_md5_end(&h, ev->hash);

    free(ev->title);
    free(ev->culprit);
    ev->title = make_title(ev->json);
    ev->culprit = make_culprit(ev->json);
    return ev->title && ev->culprit ? 0 : -ENOMEM;
}
