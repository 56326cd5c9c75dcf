/* issues — reading issues for the admin API and changing their status (SQL
 * for both backends). The writer creates and counts issues
 * (store/events_write.h); this module never does.
 *
 * All functions take a connection the caller holds (a pooled one: the admin
 * API runs on HTTP threads), return 0 or a negative errno (-ENOENT: no such
 * issue in that project, -EINVAL: bad argument), and hand JSON to the caller
 * (caller owns, json_decref). Times in rows are ms since the epoch; the admin
 * layer formats them. An issue row is
 *   {"id", "project_id", "title", "culprit", "level", "status",
 *    "first_seen", "last_seen", "count", "hash", "assignee_id", "user_count",
 *    "first_release", "last_release"}. */
#ifndef PERISCOPE_STORE_ISSUES_H
#define PERISCOPE_STORE_ISSUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

struct issue_search;

#define ISSUES_HISTOGRAM_HOURS 24
#define ISSUES_BULK_MAX 100 /* ids in one bulk status change */

enum issue_sort {
    ISSUE_SORT_LAST_SEEN,
    ISSUE_SORT_FIRST_SEEN,
    ISSUE_SORT_TIMES_SEEN,
    ISSUE_SORT_USERS
};

/* A list request. Strings are borrowed; NULL means "any". */
struct issue_query {
    const char *status; /* unresolved | resolved | ignored, NULL: all */
    const char *level;
    const char *environment;           /* issues that saw an event with this environment */
    const char *release;               /* … with this release */
    const char *text;                  /* case-insensitive substring of title, culprit or message */
    const struct issue_search *search; /* NULL: none; its terms ANDed (issue_search.h) */
    bool has_since, has_until;
    int64_t since_ms;     /* last_seen >= since */
    int64_t until_ms;     /* first_seen < until */
    enum issue_sort sort; /* always descending, ties by id descending */
    bool has_cursor;      /* keyset position: rows strictly after (key, id) */
    int64_t cursor_key, cursor_id;
    int limit; /* 1..1000 */
};

/* The sort key of a row for q's sort (to build the next cursor). */
int64_t issues_sort_key(const cJSON *row, enum issue_sort sort);

/* A page of issues: *out is an array of at most q->limit rows; *more tells
 * whether rows follow the last one. The statement is assembled from fixed
 * fragments, one per filter and search term, every value bound
 * (issues_list.c); a tag term starts from the tag index. */
int issues_list(struct db *db, int64_t project_id, const struct issue_query *q, cJSON **out,
                bool *more);

/* The database's plan for the statement issues_list runs for q, one line
 * per row of SQLite's EXPLAIN QUERY PLAN or Postgres' EXPLAIN (which
 * indexes a search uses: the plan test of every search form). 0, -ENOSPC
 * when it does not fit planlen, or negative. */
int issues_list_plan(struct db *db, int64_t project_id, const struct issue_query *q, char *plan,
                     size_t planlen);

/* One issue row. */
int issues_get(struct db *db, int64_t project_id, int64_t issue_id, cJSON **out);

/* true for unresolved | resolved | ignored. */
bool issues_status_valid(const char *status);

/* Sets the status of one issue. */
int issues_set_status(struct db *db, int64_t project_id, int64_t issue_id, const char *status);

/* Sets the status of the project's issues among ids (n <= ISSUES_BULK_MAX)
 * in one transaction; ids of other projects or of no issue are skipped.
 * *updated gets the number of issues found. */
int issues_set_status_bulk(struct db *db, int64_t project_id, const int64_t *ids, size_t n,
                           const char *status, int64_t *updated);

/* Events received per hour over the ISSUES_HISTOGRAM_HOURS hours up to
 * now_ms (the last bucket is the current hour): array of counts, oldest
 * first. Read from issue_hourly, so it lags by up to one counter flush. */
int issues_histogram(struct db *db, int64_t issue_id, int64_t now_ms, cJSON **out);

/* The same for every issue of a list page in one statement: sets
 * "histogram_24h" on each object of rows (a JSON array of issue rows with
 * "id"; at most ISSUES_HISTOGRAM_BATCH_MAX of them). 0 or a negative errno. */
#define ISSUES_HISTOGRAM_BATCH_MAX 100
int issues_histograms(struct db *db, cJSON *rows, int64_t now_ms);

#endif
