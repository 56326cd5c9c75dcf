/* events_read — see events_read.h. */
#include "store/events_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "store/store.h"

#define EVENT_COLS                                                                                 \
    "id, event_id, issue_id, timestamp, received_at, level, environment, release, title"

static const char SQL_LIST[] =
    "SELECT " EVENT_COLS " FROM events WHERE project_id = $1 AND issue_id = $2"
    " AND (CAST($3 AS BIGINT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";

static const char SQL_PAYLOAD[] =
    "SELECT payload, received_at FROM events WHERE project_id = $1 AND event_id = $2";

/* The event row at the statement's current row (EVENT_COLS order); the
 * binary id into id_out when not NULL. */
static cJSON *row_json(struct db_stmt *st, uint8_t id_out[16])
{
    static const char hex[] = "0123456789abcdef";
    char id[33] = "";
    size_t len = 0;
    const uint8_t *raw = db_col_blob(st, 1, &len);
    if (raw && len == 16) {
        for (size_t i = 0; i < 16; i++) {
            id[2 * i] = hex[raw[i] >> 4];
            id[2 * i + 1] = hex[raw[i] & 15];
        }
        id[32] = '\0';
        if (id_out) memcpy(id_out, raw, 16);
    }
    return json_build("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "event_id", id, "issue_id",
                      (int64_t)db_col_int64(st, 2), "timestamp", (int64_t)db_col_int64(st, 3),
                      "received_at", (int64_t)db_col_int64(st, 4), "level",
                      db_col_is_null(st, 5) ? cJSON_CreateString("error") : db_col_json_text(st, 5),
                      "environment", db_col_json_text(st, 6), "release", db_col_json_text(st, 7),
                      "message", db_col_json_text_or_empty(st, 8));
}

int events_list_for_issue(struct db *db, int64_t project_id, int64_t issue_id, bool has_cursor,
                          int64_t before_id, int limit, cJSON **out, int64_t *next_id)
{
    if (limit < 1 || limit > 1000) return -EINVAL;
    struct db_stmt *st = db_prepare(db, SQL_LIST);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    if (has_cursor)
        db_bind_int64(st, 3, before_id);
    else
        db_bind_null(st, 3);
    db_bind_int64(st, 4, limit + 1); /* one more tells whether a next page exists */
    cJSON *rows = cJSON_CreateArray();
    int64_t last_id = 0;
    int rc = rows ? 0 : -ENOMEM;
    *next_id = 0;
    while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
        rc = 0;
        if (json_size(rows) == (size_t)limit) {
            *next_id = last_id;
            break;
        }
        last_id = db_col_int64(st, 0);
        cJSON *row = row_json(st, NULL);
        if (!row || json_push(rows, row) != 0) store_row_skipped("events", (long long)last_id);
    }
    db_finish(st);
    if (rc < 0) {
        cJSON_Delete(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

int events_latest(struct db *db, int64_t project_id, int64_t issue_id, cJSON **out,
                  uint8_t event_id[16])
{
    struct db_stmt *st = db_prepare(db, SQL_LIST);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_int64(st, 2, issue_id);
    db_bind_null(st, 3);
    db_bind_int64(st, 4, 1);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        *out = row_json(st, event_id);
        rc = *out ? 0 : -ENOMEM;
    }
    db_finish(st);
    return rc;
}

/* zstd frame → NUL-terminated text, capped. The frame carries its content
 * size (the writer compresses in one call), which bounds the allocation. */
static int decompress(const void *src, size_t len, char **out, size_t *out_len)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) return -EIO;
    if (size > EVENTS_PAYLOAD_MAX) return -E2BIG;
    char *buf = malloc((size_t)size + 1);
    if (!buf) return -ENOMEM;
    size_t n = ZSTD_decompress(buf, (size_t)size, src, len);
    if (ZSTD_isError(n) || n != size) {
        free(buf);
        return -EIO;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}

int events_get_payload(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                       size_t *len)
{
    int64_t received_at_ms;
    return events_get_stored(db, project_id, event_id, json, len, &received_at_ms);
}

int events_get_stored(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                      size_t *len, int64_t *received_at_ms)
{
    struct db_stmt *st = db_prepare(db, SQL_PAYLOAD);
    if (!st) return -EIO;
    db_bind_int64(st, 1, project_id);
    db_bind_blob(st, 2, event_id, 16);
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        size_t n = 0;
        const void *p = db_col_blob(st, 0, &n);
        rc = p ? decompress(p, n, json, len) : -EIO;
        *received_at_ms = db_col_int64(st, 1);
    }
    db_finish(st);
    return rc;
}
