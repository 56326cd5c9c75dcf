/* grouping/fallback — see fallback.h. */
#include "grouping/fallback.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grouping/hash.h"
#include "grouping/parameterize.h"

enum { TITLE_MAX_BYTES = 1024 };

/* The values fed to the hash, in order (borrowed from the event, or owned
 * when made here: printed numbers, the parameterized message). */
struct fb_values {
    const char **v;
    size_t *len;
    size_t n, cap;
    char **owned;
    size_t nowned;
    bool oom;
};

static void fb_push(struct fb_values *fv, const char *s, size_t len)
{
    if (fv->oom) return;
    if (fv->n == fv->cap) {
        size_t cap = fv->cap ? fv->cap * 2 : 8;
        const char **v = realloc(fv->v, cap * sizeof(*v));
        if (v) fv->v = v;
        size_t *l = v ? realloc(fv->len, cap * sizeof(*l)) : NULL;
        if (!v || !l) {
            fv->oom = true;
            return;
        }
        fv->len = l;
        fv->cap = cap;
    }
    fv->v[fv->n] = s;
    fv->len[fv->n] = len;
    fv->n++;
}

static void fb_feed(struct fb_values *fv, const char *s)
{
    fb_push(fv, s, strlen(s));
}

/* Takes ownership of s (NULL: out of memory). */
static void fb_feed_owned(struct fb_values *fv, char *s, size_t len)
{
    char **o = s ? realloc(fv->owned, (fv->nowned + 1) * sizeof(*o)) : NULL;
    if (!o) {
        free(s);
        fv->oom = true;
        return;
    }
    fv->owned = o;
    fv->owned[fv->nowned++] = s;
    fb_push(fv, s, len);
}

static void fb_free(struct fb_values *fv)
{
    for (size_t i = 0; i < fv->nowned; i++)
        free(fv->owned[i]);
    free(fv->owned);
    free(fv->v);
    free(fv->len);
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
    if (!s) s = str_member(le, "formatted");
    if (!s) s = str_member(root, "message");
    return s;
}

/* The message as Sentry groups it: its variable parts parameterized. */
static void feed_message(struct fb_values *fv, const char *msg)
{
    size_t len = strlen(msg), cap = PARAMETERIZE_MAX_OUT(len), out_len;
    char *out = malloc(cap);
    if (out && parameterize(msg, len, out, cap, &out_len) == 0) {
        fb_feed_owned(fv, out, out_len);
        return;
    }
    free(out);
    fb_feed(fv, msg);
}

/* The default components; returns whether any value was fed. */
static bool feed_default(struct fb_values *h, const cJSON *root)
{
    const cJSON *values = exception_values(root);
    bool fed = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, values)
    {
        const char *type = str_member(e, "type"), *value = str_member(e, "value");
        if (type) {
            fb_feed(h, type);
            fed = true;
        }
        if (value) {
            fb_feed(h, value);
            fed = true;
        }
    }
    if (fed) return true;
    const char *msg = message_template(root);
    if (msg) {
        feed_message(h, msg);
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
        if (isspace((unsigned char)*s)) continue;
        if (j >= sizeof(want) - 1 || tolower((unsigned char)*s) != want[j]) return false;
        j++;
    }
    return j == sizeof(want) - 1;
}

static bool feed_fingerprint(struct fb_values *h, const cJSON *root)
{
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(root, "fingerprint");
    if (!cJSON_IsArray(fp) || cJSON_GetArraySize(fp) == 0) return false;
    const cJSON *v;
    char num[40];
    cJSON_ArrayForEach(v, fp)
    {
        if (cJSON_IsString(v) && is_default_variable(v->valuestring)) {
            feed_default(h, root);
        } else if (cJSON_IsString(v)) {
            fb_feed(h, v->valuestring);
        } else if (cJSON_IsNumber(v)) {
            int n = snprintf(num, sizeof(num), "%.17g", v->valuedouble);
            fb_feed_owned(h, strdup(num), (size_t)n);
        }
    }
    return true;
}

/* Copies at most max bytes of s (up to its first newline when first_line),
 * never cutting a UTF-8 sequence. */
static size_t clip(const char *s, size_t max, bool first_line)
{
    size_t n = first_line ? strcspn(s, "\r\n") : strlen(s);
    if (n <= max) return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static char *make_title(const cJSON *root)
{
    const cJSON *values = exception_values(root);
    const cJSON *main_ex =
        values ? cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1) : NULL;
    const cJSON *mech = cJSON_GetObjectItemCaseSensitive(main_ex, "mechanism");
    bool synthetic = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mech, "synthetic"));
    const char *type = synthetic ? NULL : str_member(main_ex, "type");
    const char *value = synthetic ? NULL : str_member(main_ex, "value");
    const char *msg = str_member(cJSON_GetObjectItemCaseSensitive(root, "logentry"), "formatted");
    if (!msg) msg = str_member(root, "message");
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
    if (!values) return NULL;
    const cJSON *main_ex = cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(main_ex, "stacktrace");
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(st, "frames");
    int n = cJSON_IsArray(frames) ? cJSON_GetArraySize(frames) : 0;
    if (n == 0) return NULL;
    /* cJSON arrays are linked lists: walk once, remember the last matches. */
    const cJSON *f, *last = NULL, *last_in_app = NULL;
    cJSON_ArrayForEach(f, frames)
    {
        last = f;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "in_app"))) last_in_app = f;
    }
    return last_in_app ? last_in_app : last;
}

static char *make_culprit(const cJSON *root)
{
    const cJSON *f = culprit_frame(root);
    const char *where = f ? str_member(f, "module") : NULL;
    if (f && !where) where = str_member(f, "filename");
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

int grouping_fallback(const cJSON *event, char hash[33], char **title, char **culprit)
{
    struct fb_values fv = {0};
    if (!feed_fingerprint(&fv, event)) feed_default(&fv, event);
    int rc = fv.oom ? -ENOMEM : grouping_hash(fv.v, fv.len, fv.n, hash);
    fb_free(&fv);
    if (rc != 0) return rc;

    free(*title);
    free(*culprit);
    *title = make_title(event);
    *culprit = make_culprit(event);
    return *title && *culprit ? 0 : -ENOMEM;
}
