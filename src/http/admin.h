/* admin — the JSON admin API's request/response contract and route table.
 *
 * Every /api/admin/ route is a struct admin_route in some module's table
 * (admin_projects.c, admin_issues.c, …), listed in admin_router.c. The router
 * has already checked the bearer token (constant time), read the body (size
 * capped) and matched the pattern; handlers run on an admin pool thread,
 * never an HTTP one (http/admin_router.h), and answer through the
 * admin_resp helpers.
 *
 * Errors are {"error": {"code": "...", "message": "..."}}; lists are
 * {"data": [...], "next_cursor": "..." | null}. */
#ifndef PERISCOPE_HTTP_ADMIN_H
#define PERISCOPE_HTTP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/json.h"

struct config;
struct db;
struct ingest;
struct MHD_Connection;
struct script_registry;
struct store;

/* What admin handlers may use, all borrowed (they outlive the daemon). A
 * handler reaches nothing else of the application. */
struct admin_ctx {
    const struct config *cfg;
    struct store *store;             /* store_acquire / store_release */
    struct script_registry *scripts; /* the projects' active scripts (scripts/script_ops.h) */
    struct ingest *ingest;           /* the DSN key cache: ingest_forget_keys */
};
struct principal;

#define ADMIN_MAX_PARAMS 4

struct admin_req {
    const struct admin_ctx *ctx;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;                     /* without the query string */
    const char *params[ADMIN_MAX_PARAMS]; /* the {} segments of the pattern, in order */
    int nparams;
    const char *body; /* may be NULL; NUL-terminated */
    size_t body_len;
    const char *content_type;    /* may be NULL */
    const struct principal *who; /* the caller, already authorized for the route
                                  * (accounts/authz.h); borrowed for the request */
};

struct admin_resp {
    int status;
    cJSON *json;              /* owned: sent as application/json */
    char *text;               /* owned, alternative to json: sent as-is */
    const char *content_type; /* for text; default text/plain; charset=utf-8 */
    const char *header_name;  /* with header_value: one extra header (Set-Cookie, Retry-After) */
    char *header_value;       /* owned, may be NULL */
};

typedef void (*admin_handler)(const struct admin_req *req, struct admin_resp *resp);

struct admin_route {
    const char *method;  /* "GET", "POST", … */
    const char *pattern; /* "/api/admin/projects/{}/issues/{}"; {} is one path segment */
    admin_handler fn;
};

/* Answer helpers. They take ownership of json (docs/architecture.md §1,
 * "JSON"). admin_json keeps the tree until the answer is sent (the audit
 * log reads it) and prints it with json_print; NULL answers 500 unless the
 * status is 204. admin_cjson prints it at once with cJSON's printer; NULL
 * or out of memory answers 500. */
void admin_json(struct admin_resp *resp, int status, cJSON *json);
void admin_cjson(struct admin_resp *resp, int status, cJSON *json);
void admin_error(struct admin_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* {"data": data, "next_cursor": cursor or null}; takes ownership of data. */
void admin_list(struct admin_resp *resp, cJSON *data, const char *next_cursor);

/* Parses the body as a JSON object; on failure answers 400 and returns NULL.
 * Caller owns the result. */
cJSON *admin_body_object(const struct admin_req *req, struct admin_resp *resp);

/* Query-string argument, or NULL. Borrowed for the request. */
const char *admin_query(const struct admin_req *req, const char *name);

/* Parses params[i] as a positive int64; answers 404 and returns -1 when it
 * is not one. */
int64_t admin_param_id(const struct admin_req *req, struct admin_resp *resp, int i);

/* ?limit= (default def, clamped to 1..max; 400 on garbage → returns -1). */
int admin_limit(const struct admin_req *req, struct admin_resp *resp, int def, int max);

/* The page parameters of a cursor-paginated list: ?limit= as admin_limit
 * and ?cursor= (absent or empty: the first page, key and id 0). Returns 0,
 * or -1 after answering 400 (invalid_limit, invalid_cursor). */
struct admin_page {
    int limit;
    bool has_cursor;
    int64_t key, id; /* the cursor's pair */
};
int admin_page_params(const struct admin_req *req, struct admin_resp *resp, int def, int max,
                      struct admin_page *page);

/* Opaque pagination cursors over a (sort key, id) pair. decode returns 0,
 * or -EINVAL for a cursor that is not one of ours (answer 400). encode:
 * caller frees. */
char *admin_cursor_encode(int64_t key, int64_t id);
int admin_cursor_decode(const char *cursor, int64_t *key, int64_t *id);

/* RFC 3339 UTC text for ms since the epoch ("2026-11-25T18:00:00.123Z"). */
cJSON *admin_time(long long ms);
/* Replaces obj's integer member name (ms) with its admin_time; null stays. */
void admin_time_field(cJSON *obj, const char *name);

/* Answers 500 "database_error" and logs op with the error (nothing of the
 * request, which may hold secrets). When rc says the database is away for
 * now (-ETIMEDOUT, -ECONNREFUSED, -EBUSY…): 503 "database_unavailable" with
 * Retry-After ADMIN_DB_RETRY_AFTER_S, so clients and the web interface retry. */
#define ADMIN_DB_RETRY_AFTER_S "5"
void admin_db_error(struct admin_resp *resp, const char *op, int rc);

/* 0 when project id exists (row, if not NULL, gets it: caller owns);
 * otherwise answers 404 "project_not_found" or 500 and returns < 0. */
int admin_project_check(struct db *db, int64_t id, struct admin_resp *resp, cJSON **row);

#endif
