/* admin_util — the answer, body, query, pagination and time helpers that
 * admin.h declares for every admin route handler. */
#include "http/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "base/log.h"
#include "base/utf8.h"
#include "store/projects.h"

#define CURSOR_TEXT_MAX 48 /* "-9223372036854775808:9223372036854775807" fits */

static void resp_reset(struct admin_resp *resp)
{
    cJSON_Delete(resp->json);
    free(resp->text);
    resp->json = NULL;
    resp->text = NULL;
}

void admin_json(struct admin_resp *resp, int status, cJSON *json)
{
    resp_reset(resp);
    resp->status = status;
    resp->json = json;
}

void admin_cjson(struct admin_resp *resp, int status, cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!text) {
        admin_error(resp, 500, "out_of_memory", "out of memory");
        return;
    }
    resp_reset(resp);
    resp->status = status;
    resp->text = text;
    resp->content_type = "application/json";
}

void admin_error(struct admin_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    admin_json(resp, status, json_build("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

void admin_list(struct admin_resp *resp, cJSON *data, const char *next_cursor)
{
    admin_json(resp, 200, json_build("{s:o, s:s?}", "data", data, "next_cursor", next_cursor));
}

cJSON *admin_body_object(const struct admin_req *req, struct admin_resp *resp)
{
    if (!req->body || req->body_len == 0) {
        admin_error(resp, 400, "invalid_json", "request body is empty: expected a JSON object");
        return NULL;
    }
    char why[160];
    cJSON *obj = utf8_valid(req->body, req->body_len)
                     ? json_parse_checked(req->body, req->body_len, why, sizeof why)
                     : NULL;
    if (!obj) {
        if (!utf8_valid(req->body, req->body_len))
            snprintf(why, sizeof why, "the body is not valid UTF-8");
        admin_error(resp, 400, "invalid_json", "malformed JSON: %s", why);
        return NULL;
    }
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        admin_error(resp, 400, "invalid_json", "expected a JSON object");
        return NULL;
    }
    return obj;
}

const char *admin_query(const struct admin_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Strict decimal: digits only, no sign, no spaces, fits int64. */
static int parse_i64(const char *s, int64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -EINVAL;
    *out = v;
    return 0;
}

int64_t admin_param_id(const struct admin_req *req, struct admin_resp *resp, int i)
{
    int64_t id;
    if (i < 0 || i >= req->nparams || parse_i64(req->params[i], &id) != 0 || id <= 0) {
        admin_error(resp, 404, "not_found", "no such resource");
        return -1;
    }
    return id;
}

int admin_limit(const struct admin_req *req, struct admin_resp *resp, int def, int max)
{
    const char *s = admin_query(req, "limit");
    int64_t v;
    if (!s) return def;
    if (parse_i64(s, &v) != 0) {
        admin_error(resp, 400, "invalid_limit", "limit must be a positive integer");
        return -1;
    }
    return v < 1 ? 1 : v > max ? max : (int)v;
}

int admin_page_params(const struct admin_req *req, struct admin_resp *resp, int def, int max,
                      struct admin_page *page)
{
    const char *cursor = admin_query(req, "cursor");
    *page = (struct admin_page){.has_cursor = cursor && *cursor};
    if (page->has_cursor && admin_cursor_decode(cursor, &page->key, &page->id) != 0) {
        admin_error(resp, 400, "invalid_cursor", "cursor is not one this server issued");
        return -1;
    }
    page->limit = admin_limit(req, resp, def, max);
    return page->limit < 0 ? -1 : 0;
}

char *admin_cursor_encode(int64_t key, int64_t id)
{
    char text[CURSOR_TEXT_MAX];
    unsigned char b64[2 * CURSOR_TEXT_MAX];
    int n = snprintf(text, sizeof text, "%" PRId64 ":%" PRId64, key, id);
    int len = EVP_EncodeBlock(b64, (const unsigned char *)text, n);
    while (len > 0 && b64[len - 1] == '=')
        len--; /* base64url: no padding */
    for (int i = 0; i < len; i++) {
        if (b64[i] == '+')
            b64[i] = '-';
        else if (b64[i] == '/')
            b64[i] = '_';
    }
    char *out = malloc((size_t)len + 1);
    if (!out) return NULL;
    memcpy(out, b64, (size_t)len);
    out[len] = '\0';
    return out;
}

int admin_cursor_decode(const char *cursor, int64_t *key, int64_t *id)
{
    unsigned char b64[2 * CURSOR_TEXT_MAX + 4];
    unsigned char text[2 * CURSOR_TEXT_MAX];
    size_t n = cursor ? strlen(cursor) : 0;
    if (n == 0 || n > 2 * CURSOR_TEXT_MAX || n % 4 == 1) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = cursor[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            return -EINVAL;
        b64[i] = (unsigned char)c;
    }
    size_t pad = (4 - n % 4) % 4;
    memset(b64 + n, '=', pad);
    int len = EVP_DecodeBlock(text, b64, (int)(n + pad));
    if (len < 0) return -EINVAL;
    len -= (int)pad; /* DecodeBlock counts the padding as zero bytes */
    if (len <= 0 || len >= (int)sizeof text) return -EINVAL;
    text[len] = '\0';

    /* Exactly "<int>:<digits>", nothing else. */
    char *s = (char *)text, *colon = strchr(s, ':'), *end;
    if (!colon || memchr(s, '\0', (size_t)len)) return -EINVAL;
    *colon = '\0';
    errno = 0;
    long long k = strtoll(s, &end, 10);
    if (errno || end == s || *end || (*s != '-' && (*s < '0' || *s > '9'))) return -EINVAL;
    int64_t i;
    if (parse_i64(colon + 1, &i) != 0) return -EINVAL;
    *key = k;
    *id = i;
    return 0;
}

cJSON *admin_time(long long ms)
{
    long long secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm)) return cJSON_CreateNull();
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03lldZ", frac);
    return cJSON_CreateString(buf);
}

void admin_time_field(cJSON *obj, const char *name)
{
    cJSON *v = json_get(obj, name);
    if (json_is_int(v)) json_set(obj, name, admin_time(json_i64(v)));
}

/* Errors that say the database is away for now (refused, lost, timed out,
 * locked) rather than that the request cannot work. */
static bool db_unavailable(int rc)
{
    return rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -ENOTCONN ||
           rc == -EPIPE || rc == -EBUSY || rc == -EAGAIN;
}

void admin_db_error(struct admin_resp *resp, const char *op, int rc)
{
    log_error("admin database error", "op=%s error=%s", op, strerror(-rc));
    if (!db_unavailable(rc)) {
        admin_error(resp, 500, "database_error", "the database failed; see the server log");
        return;
    }
    admin_error(resp, 503, "database_unavailable",
                "the database is not answering (%s); retry later", strerror(-rc));
    if (!resp->header_value) {
        resp->header_name = "Retry-After";
        resp->header_value = strdup(ADMIN_DB_RETRY_AFTER_S);
    }
}

int admin_project_check(struct db *db, int64_t id, struct admin_resp *resp, cJSON **row)
{
    cJSON *p = NULL;
    int rc = projects_get(db, id, &p);
    if (rc == -ENOENT)
        admin_error(resp, 404, "project_not_found", "no such project");
    else if (rc)
        admin_db_error(resp, "projects_get", rc);
    if (rc == 0 && row)
        *row = p;
    else
        cJSON_Delete(p);
    return rc;
}
