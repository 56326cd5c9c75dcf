/* web — the browser interface's files, in memory (contract in web.h). */
#include "http/web.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <xxhash.h>
#include "http/web_gzip.h"
#include "http/web_release.h"

#define WEB_PATH_MAX 512
#define WEB_DEPTH_MAX 8

struct web_file {
    char *path; /* relative to the directory, "/"-separated: "js/app.js" */
    const char *type;
    unsigned char *body, *gz; /* gz NULL when it would not be smaller */
    size_t len, gz_len;
    char etag[20]; /* "\"" 16 hex "\"" */
};

struct web_assets {
    struct web_file *files; /* sorted by path */
    size_t n, cap, total;
    char release[17]; /* 16 hex: XXH3 of every file as read; ?v=<release> URLs are immutable */
    const struct web_file *shell; /* index.html */
};

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++) {
        size_t e = strlen(TYPES[i].ext);
        if (n > e && strcasecmp(path + n - e, TYPES[i].ext) == 0) return TYPES[i].type;
    }
    return NULL; /* not served: READMEs, licenses without an extension */
}

static bool compressible(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strstr(type, "json") || strstr(type, "svg");
}

/* Reads path (at most WEB_FILE_MAX_BYTES) into *body. */
static int read_file(const char *path, unsigned char **body, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fileno(f), &st) != 0)
        rc = -errno;
    else if (st.st_size > (off_t)WEB_FILE_MAX_BYTES)
        rc = -EFBIG;
    else if (!(*body = malloc((size_t)st.st_size + 1)))
        rc = -ENOMEM;
    else if ((*len = fread(*body, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
        free(*body);
        rc = -EIO;
    }
    fclose(f);
    return rc;
}

static int add_file(struct web_assets *w, const char *full, const char *rel, const char *type)
{
    if (w->n == WEB_FILES_MAX) return -E2BIG;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct web_file *p = realloc(w->files, cap * sizeof *p);
        if (!p) return -ENOMEM;
        w->files = p;
        w->cap = cap;
    }
    struct web_file f = {.type = type};
    int rc = read_file(full, &f.body, &f.len);
    if (rc) return rc;
    if ((w->total += f.len) > WEB_TOTAL_MAX_BYTES) {
        free(f.body);
        return -E2BIG;
    }
    f.path = strdup(rel);
    if (!f.path) {
        free(f.body);
        return -ENOMEM;
    }
    w->files[w->n++] = f;
    return 0;
}

/* The ETag and, when smaller, the gzip copy of f's final body. */
static int finish_file(struct web_file *f)
{
    snprintf(f->etag, sizeof f->etag, "\"%016llx\"",
             (unsigned long long)XXH3_64bits(f->body, f->len));
    if (!compressible(f->type)) return 0;
    int rc = web_gzip(f->body, f->len, &f->gz, &f->gz_len);
    if (rc == 0 && f->gz_len >= f->len) {
        free(f->gz);
        f->gz = NULL;
    }
    return rc;
}

/* Adds every served file under dir/rel (rel "" at the top), depth-bounded;
 * hidden entries are skipped. */
static int walk(struct web_assets *w, const char *dir, const char *rel, int depth, char *err,
                size_t errlen)
{
    char path[WEB_PATH_MAX * 2];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "web directory %s: %s", path, strerror(errno));
        return -errno;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[WEB_PATH_MAX], full[WEB_PATH_MAX * 2];
        if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
            sizeof sub)
            continue;
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < WEB_DEPTH_MAX) rc = walk(w, dir, sub, depth + 1, err, errlen);
        } else if (S_ISREG(st.st_mode) && type_of(sub)) {
            rc = add_file(w, full, sub, type_of(sub));
            if (rc) snprintf(err, errlen, "web file %s: %s", full, strerror(-rc));
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct web_file *)a)->path, ((const struct web_file *)b)->path);
}

static const struct web_file *find(const struct web_assets *w, const char *path)
{
    struct web_file key = {.path = (char *)path};
    return bsearch(&key, w->files, w->n, sizeof *w->files, by_path);
}

int web_assets_open(const char *dir, struct web_assets **out, char *err, size_t errlen)
{
    struct web_assets *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    int rc = walk(w, dir, "", 0, err, errlen);
    if (rc == 0) {
        qsort(w->files, w->n, sizeof *w->files, by_path);
        w->shell = find(w, "index.html");
        if (!w->shell) {
            snprintf(err, errlen, "web directory %s has no index.html", dir);
            rc = -ENOENT;
        }
    }
    /* One release id over everything; the shell's and the modules' own
     * URLs carry it, so a browser keeps them until the files change. */
    XXH3_state_t *h = rc == 0 ? XXH3_createState() : NULL;
    if (rc == 0 && !h) rc = -ENOMEM;
    if (h) {
        XXH3_64bits_reset(h);
        for (size_t i = 0; i < w->n; i++) {
            XXH3_64bits_update(h, w->files[i].path, strlen(w->files[i].path) + 1);
            XXH3_64bits_update(h, w->files[i].body, w->files[i].len);
        }
        snprintf(w->release, sizeof w->release, "%016llx",
                 (unsigned long long)XXH3_64bits_digest(h));
        XXH3_freeState(h);
    }
    for (size_t i = 0; rc == 0 && i < w->n; i++) {
        struct web_file *f = &w->files[i];
        if (web_release_rewrites(f->path))
            rc = web_release_rewrite(&f->body, &f->len, f->path, w->release);
        if (rc == 0) rc = finish_file(f);
        if (rc) snprintf(err, errlen, "web file %s: %s", f->path, strerror(-rc));
    }
    if (rc) {
        web_assets_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void web_assets_free(struct web_assets *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->files[i].path);
        free(w->files[i].body);
        free(w->files[i].gz);
    }
    free(w->files);
    free(w);
}

size_t web_assets_count(const struct web_assets *w)
{
    return w ? w->n : 0;
}

bool web_matches(const char *url)
{
    return strncmp(url, "/api/", 5) != 0 && strcmp(url, "/api") != 0 &&
           strcmp(url, "/healthz") != 0 && strcmp(url, "/readyz") != 0 &&
           strcmp(url, "/metrics") != 0;
}

static void security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result answer_plain(struct MHD_Connection *conn, unsigned status, const char *text,
                                    const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    security_headers(r);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* true when the client's Accept-Encoding takes gzip (a q=0 refuses it). */
static bool accepts_gzip(struct MHD_Connection *conn)
{
    const char *ae =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    for (const char *p = ae; p && (p = strcasestr(p, "gzip")); p += 4) {
        bool start = p == ae || p[-1] == ' ' || p[-1] == ',';
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (!start || (*q && *q != ',' && *q != ';')) continue;
        if (*q == ';') {
            const char *v = strstr(q, "q=");
            const char *comma = strchr(q, ',');
            if (v && (!comma || v < comma) && strtod(v + 2, NULL) <= 0) return false;
        }
        return true;
    }
    return false;
}

/* true when If-None-Match lists etag (or is "*"). */
static bool not_modified(struct MHD_Connection *conn, const char *etag)
{
    const char *inm =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
}

static enum MHD_Result send_file(struct MHD_Connection *conn, const struct web_file *f,
                                 bool immutable)
{
    bool nm = not_modified(conn, f->etag);
    bool gz = f->gz && accepts_gzip(conn);
    struct MHD_Response *r =
        nm ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
           : MHD_create_response_from_buffer(gz ? f->gz_len : f->len, gz ? f->gz : f->body,
                                             MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
    /* With this server's ?v=<release>, kept for a year (the URL changes
     * with the files); otherwise revalidated each time (304 when same). */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            immutable ? "public, max-age=31536000, immutable" : "no-cache");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gz && !nm) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    security_headers(r);
    enum MHD_Result rc = MHD_queue_response(conn, nm ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result web_answer(const struct web_assets *w, struct MHD_Connection *conn, const char *url,
                           const char *method)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer_plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
    if (!w)
        return answer_plain(conn, MHD_HTTP_NOT_FOUND, "the web interface is not installed\n", NULL);
    if (strncmp(url, "/static/", 8) == 0) {
        const struct web_file *f = find(w, url + 8);
        if (!f || f == w->shell)
            return answer_plain(conn, MHD_HTTP_NOT_FOUND, "no such file\n", NULL);
        const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "v");
        return send_file(conn, f, v && strcmp(v, w->release) == 0);
    }
    return send_file(conn, w->shell, false);
}
