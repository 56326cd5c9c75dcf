/* admin_issues_params — reading the query string of the issue and event
 * routes into store requests (struct issue_query), answering 400 for what
 * is not valid. Pure; runs on the HTTP thread of the request. */
#ifndef PERISCOPE_HTTP_ADMIN_ISSUES_PARAMS_H
#define PERISCOPE_HTTP_ADMIN_ISSUES_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "http/admin.h"
#include "store/issues.h"

#define ISSUES_PAGE_DEFAULT 25
#define ISSUES_PAGE_MAX 100

/* RFC 3339 ("2026-11-25T18:00:00Z", fractions and ±hh:mm offsets allowed;
 * no zone is UTC) or seconds since the epoch ("1764093600", "1764093600.5")
 * into ms since the epoch. 0 or -EINVAL. */
int admin_parse_time(const char *s, int64_t *ms);

/* Fills q from ?status= &level= &environment= &release= &query= &since=
 * &until= &sort= &cursor= &limit=; query= is parsed into search (the
 * search language, issue_search.h), which q points to. Returns 0, or -1
 * after answering 400 (invalid_query names the bad term). Strings in q
 * are borrowed from the request and search. */
struct issue_search;
int admin_issue_query(const struct admin_req *req, struct admin_resp *resp, struct issue_query *q,
                      struct issue_search *search);

/* ?ids=1,2,3 (1..ISSUES_BULK_MAX positive ids) into ids; *n gets the count.
 * Returns 0, or -1 after answering 400. */
int admin_issue_ids(const struct admin_req *req, struct admin_resp *resp, int64_t *ids, size_t *n);

#endif
