/* issue_tags — see issue_tags.h. */
#include "store/issue_tags.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* user.id and user.email are counted for search only (event_tags.h): the
 * summary shows the user as the "user" tag does. */
static const char SQL_SUMMARY[] =
    "SELECT key, value, times_seen, last_seen, total FROM ("
    " SELECT key, value, times_seen, last_seen,"
    "  SUM(times_seen) OVER (PARTITION BY key) AS total,"
    "  ROW_NUMBER() OVER (PARTITION BY key ORDER BY times_seen DESC, value) AS rn"
    " FROM issue_tags WHERE issue_id = $1 AND key NOT IN ('user.id', 'user.email')) t"
    " WHERE rn <= $2 ORDER BY key, rn";

/* Appends the current row to the summary, starting a new key group when
 * the key changes. */
static int summary_row(cJSON *out, cJSON **group, struct db_stmt *st)
{
    cJSON *key = db_col_json_text_or_empty(st, 0);
    if (!key) return -ENOMEM;
    const char *cur = *group ? json_str(json_get(*group, "key")) : NULL;
    if (!cur || strcmp(cur, json_str(key)) != 0) {
        *group = json_build("{s:o, s:I, s:[]}", "key", key, "total", (int64_t)db_col_int64(st, 4),
                            "top_values");
        if (!*group || json_push(out, *group) != 0) return -ENOMEM;
    } else {
        cJSON_Delete(key);
    }
    cJSON *v = json_build("{s:o, s:I, s:I}", "value", db_col_json_text_or_empty(st, 1), "count",
                          (int64_t)db_col_int64(st, 2), "last_seen", (int64_t)db_col_int64(st, 3));
    if (!v || json_push(json_get(*group, "top_values"), v) != 0) return -ENOMEM;
    return 0;
}

int issue_tags_summary(struct db *db, int64_t issue_id, int top_n, cJSON **out)
{
    struct db_stmt *st = db_prepare(db, SQL_SUMMARY);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, top_n);
    cJSON *arr = cJSON_CreateArray(), *group = NULL;
    int rc = arr ? 0 : -ENOMEM;
    while (rc == 0 && (rc = db_step(st)) == DB_ROW)
        rc = summary_row(arr, &group, st);
    db_finish(st);
    if (rc < 0) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
