/* store/deliveries_alert — one alert's row, its issue, project and event,
 * as the struct the formatters are given (deliveries.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "store/deliveries.h"

/* Columns of the query below that are text, in the order of the fields
 * they fill. */
enum { TEXTS = 11 };

/* The text columns cols[] of the row (NULL for SQL NULL; extra, when not
 * NULL, stands for the last one): each copied as soon as read (a column's
 * text is good only until the next is read), repaired when it is not
 * valid UTF-8, then all put into one block (out->owned) the fields point
 * into. */
static int copy_texts(struct db_stmt *st, const int cols[TEXTS], const char *extra,
                      const char **fields[TEXTS], struct alert_data *out)
{
    char *copy[TEXTS] = {0};
    size_t len[TEXTS] = {0}, total = 0;
    int rc = -ENOMEM;
    for (int i = 0; i < TEXTS; i++) {
        const char *v = cols[i] < 0 ? extra : db_col_text(st, cols[i]);
        if (!v) continue;
        size_t n = strlen(v), fixed_len = 0;
        char *fixed = NULL;
        if (utf8_repair(v, n, &fixed, &fixed_len) < 0) goto done;
        len[i] = fixed ? fixed_len : n;
        copy[i] = fixed ? fixed : strndup(v, n);
        if (!copy[i]) goto done;
        total += len[i] + 1;
    }
    out->owned = malloc(total ? total : 1);
    if (!out->owned) goto done;
    char *p = out->owned;
    for (int i = 0; i < TEXTS; i++) {
        if (!copy[i]) continue;
        memcpy(p, copy[i], len[i] + 1);
        *fields[i] = p;
        p += len[i] + 1;
    }
    rc = 0;
done:
    for (int i = 0; i < TEXTS; i++)
        free(copy[i]);
    return rc;
}

int deliveries_alert_data(struct db *db, int64_t alert_id, struct alert_data *out)
{
    static const char SQL[] =
        "SELECT a.id, a.kind, a.created_at, i.id, i.project_id, i.title, i.culprit, i.level, "
        "i.status, i.first_seen, i.last_seen, i.times_seen, i.hash, p.id, p.name, e.event_id, "
        "e.environment, e.release, e.level "
        "FROM alerts a JOIN issues i ON i.id = a.issue_id JOIN projects p ON p.id = a.project_id "
        "LEFT JOIN events e ON e.project_id = a.project_id AND e.event_id = a.event_id "
        "WHERE a.id = $1";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_prepare(db, SQL);
    if (!st) return -EIO;
    db_bind_int64(st, 1, alert_id);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_finish(st);
        return rc == DB_DONE ? -ENOENT : (rc < 0 ? rc : -EIO);
    }
    out->id = db_col_int64(st, 0);
    out->created_at_ms = db_col_int64(st, 2);
    out->issue.id = db_col_int64(st, 3);
    out->issue.project_id = db_col_int64(st, 4);
    out->issue.first_seen_ms = db_col_int64(st, 9);
    out->issue.last_seen_ms = db_col_int64(st, 10);
    out->issue.count = db_col_int64(st, 11);
    out->project.id = db_col_int64(st, 13);
    char event_id[33] = "";
    size_t idlen = 0;
    const unsigned char *b = db_col_is_null(st, 15) ? NULL : db_col_blob(st, 15, &idlen);
    for (size_t i = 0; b && idlen == 16 && i < 16; i++)
        snprintf(event_id + 2 * i, 3, "%02x", b[i]);
    static const int cols[TEXTS] = {1, 5, 6, 7, 8, 12, 14, 16, 17, 18, -1};
    const char **fields[TEXTS] = {
        &out->kind,          &out->issue.title, &out->issue.culprit,  &out->issue.level,
        &out->issue.status,  &out->issue.hash,  &out->project.name,   &out->event.environment,
        &out->event.release, &out->event.level, &out->event.event_id,
    };
    rc = copy_texts(st, cols, event_id[0] ? event_id : NULL, fields, out);
    db_finish(st);
    if (rc != 0) alert_data_clear(out);
    return rc;
}
