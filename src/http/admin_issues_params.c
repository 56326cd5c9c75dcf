/* admin_issues_params — see admin_issues_params.h. */
#include "http/admin_issues_params.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/admin_issue_actions.h"
#include "model/issue_search.h"

/* "Z", "z", "+hh:mm", "-hh:mm" or nothing (UTC) → offset seconds east. */
static int parse_zone(const char *p, long *offset)
{
    *offset = 0;
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0')) return 0;
    if ((*p != '+' && *p != '-') || strlen(p) != 6 || p[3] != ':') return -EINVAL;
    for (int i = 1; i < 6; i++)
        if (i != 3 && !isdigit((unsigned char)p[i])) return -EINVAL;
    long h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
    if (h > 23 || m > 59) return -EINVAL;
    *offset = (*p == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return 0;
}

static int parse_epoch(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < 0 || v > 1e11) return -EINVAL;
    *ms = (int64_t)(v * 1000.0 + 0.5);
    return 0;
}

int admin_parse_time(const char *s, int64_t *ms)
{
    if (!s || !*s) return -EINVAL;
    if (strspn(s, "0123456789.") == strlen(s)) return parse_epoch(s, ms);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    if (!p || (*p != 'T' && *p != 't' && *p != ' ')) return -EINVAL;
    p = strptime(p + 1, "%H:%M:%S", &tm);
    if (!p) return -EINVAL;
    int64_t frac_ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
        if (digits == 0) return -EINVAL;
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    long offset;
    if (parse_zone(p, &offset) != 0) return -EINVAL;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -EINVAL;
    *ms = ((int64_t)t - offset) * 1000 + frac_ms;
    return 0;
}

static int bad(struct admin_resp *resp, const char *code, const char *message)
{
    admin_error(resp, 400, code, "%s", message);
    return -1;
}

static int parse_status(const char *s, struct issue_query *q)
{
    if (!s) {
        q->status = "unresolved";
        return 0;
    }
    if (strcmp(s, "all") == 0) {
        q->status = NULL;
        return 0;
    }
    q->status = s;
    return issues_status_valid(s) ? 0 : -EINVAL;
}

static int parse_sort(const char *s, enum issue_sort *sort)
{
    *sort = ISSUE_SORT_LAST_SEEN;
    if (!s || strcmp(s, "last_seen") == 0) return 0;
    if (strcmp(s, "first_seen") == 0)
        *sort = ISSUE_SORT_FIRST_SEEN;
    else if (strcmp(s, "times_seen") == 0 || strcmp(s, "count") == 0)
        *sort = ISSUE_SORT_TIMES_SEEN;
    else if (strcmp(s, "users") == 0 || strcmp(s, "user_count") == 0)
        *sort = ISSUE_SORT_USERS;
    else
        return -EINVAL;
    return 0;
}

/* An optional filter value: absent and empty mean "any". */
static const char *opt(const struct admin_req *req, const char *name)
{
    const char *v = admin_query(req, name);
    return v && *v ? v : NULL;
}

int admin_issue_query(const struct admin_req *req, struct admin_resp *resp, struct issue_query *q,
                      struct issue_search *search)
{
    memset(q, 0, sizeof *q);
    if (parse_status(admin_query(req, "status"), q) != 0)
        return bad(resp, "invalid_status", "status must be unresolved, resolved, ignored or all");
    if (parse_sort(admin_query(req, "sort"), &q->sort) != 0)
        return bad(resp, "invalid_sort",
                   "sort must be last_seen, first_seen, count (or times_seen) or users");
    q->level = opt(req, "level");
    q->environment = opt(req, "environment");
    q->release = opt(req, "release");
    char err[200];
    if (issue_search_parse(opt(req, "query"), admin_request_user(req), search, err, sizeof err) !=
        0)
        return bad(resp, "invalid_query", err);
    q->search = search;
    const char *since = opt(req, "since"), *until = opt(req, "until");
    if (since && admin_parse_time(since, &q->since_ms) != 0)
        return bad(resp, "invalid_since", "since must be RFC 3339 or seconds since the epoch");
    if (until && admin_parse_time(until, &q->until_ms) != 0)
        return bad(resp, "invalid_until", "until must be RFC 3339 or seconds since the epoch");
    q->has_since = since != NULL;
    q->has_until = until != NULL;
    struct admin_page page;
    if (admin_page_params(req, resp, ISSUES_PAGE_DEFAULT, ISSUES_PAGE_MAX, &page) != 0) return -1;
    q->limit = page.limit;
    q->has_cursor = page.has_cursor;
    q->cursor_key = page.key;
    q->cursor_id = page.id;
    return 0;
}

int admin_issue_ids(const struct admin_req *req, struct admin_resp *resp, int64_t *ids, size_t *n)
{
    const char *s = admin_query(req, "ids");
    *n = 0;
    if (!s || !*s) return bad(resp, "invalid_ids", "ids=1,2,3 is required");
    while (*s) {
        char *end;
        errno = 0;
        long long v = isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : -1;
        if (v <= 0 || errno || (*end != ',' && *end != '\0'))
            return bad(resp, "invalid_ids", "ids must be positive integers separated by commas");
        if (*n == ISSUES_BULK_MAX) return bad(resp, "invalid_ids", "at most 100 ids at once");
        ids[(*n)++] = v;
        s = *end ? end + 1 : end;
    }
    return 0;
}
