/* issue_tags — see issue_tags.h. */
#include "store/issue_tags.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/event_tags.h"
#include "base/metrics.h"
#include "store/db.h"

#define UPSERT_CONFLICT                                                                            \
    " ON CONFLICT (issue_id, key, value) DO UPDATE SET"                                            \
    " times_seen = issue_tags.times_seen + excluded.times_seen,"                                   \
    " last_seen = CASE WHEN issue_tags.last_seen < excluded.last_seen"                             \
    " THEN excluded.last_seen ELSE issue_tags.last_seen END"

static const char SQL_UPSERT[] =
    "INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen)"
    " VALUES ($1, $2, $3, $4, $5)" UPSERT_CONFLICT;

/* A batch's pairs go UPSERT_BIG_CHUNK, then UPSERT_CHUNK, per statement,
 * the rest singly: on Postgres one round trip instead of 32 or 8; on
 * SQLite each statement costs ~11,000 instructions of its own (statement
 * journal, halt; callgrind, issue 10), and 32 events with 6 tags each make
 * ~190 pairs. The pairs of a batch are distinct (counted per issue, key
 * and value), so no row is hit twice by one statement. */
enum { UPSERT_CHUNK = 8, UPSERT_BIG_CHUNK = 32 };
#define UPSERT_CHUNK_VALUES                                                                        \
    " ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10), ($11, $12, $13, $14, $15),"                     \
    " ($16, $17, $18, $19, $20), ($21, $22, $23, $24, $25), ($26, $27, $28, $29, $30),"            \
    " ($31, $32, $33, $34, $35), ($36, $37, $38, $39, $40)"
#define UPSERT_INSERT "INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen) VALUES"
static const char SQL_UPSERT_CHUNK[] = UPSERT_INSERT UPSERT_CHUNK_VALUES UPSERT_CONFLICT;
static const char SQL_UPSERT_BIG_CHUNK[] = UPSERT_INSERT UPSERT_CHUNK_VALUES
    ", ($41, $42, $43, $44, $45), ($46, $47, $48, $49, $50),"
    " ($51, $52, $53, $54, $55), ($56, $57, $58, $59, $60),"
    " ($61, $62, $63, $64, $65), ($66, $67, $68, $69, $70),"
    " ($71, $72, $73, $74, $75), ($76, $77, $78, $79, $80),"
    " ($81, $82, $83, $84, $85), ($86, $87, $88, $89, $90),"
    " ($91, $92, $93, $94, $95), ($96, $97, $98, $99, $100),"
    " ($101, $102, $103, $104, $105), ($106, $107, $108, $109, $110),"
    " ($111, $112, $113, $114, $115), ($116, $117, $118, $119, $120),"
    " ($121, $122, $123, $124, $125), ($126, $127, $128, $129, $130),"
    " ($131, $132, $133, $134, $135), ($136, $137, $138, $139, $140),"
    " ($141, $142, $143, $144, $145), ($146, $147, $148, $149, $150),"
    " ($151, $152, $153, $154, $155), ($156, $157, $158, $159, $160)" UPSERT_CONFLICT;

/* The statements a flush chooses from, largest first; the last takes one. */
static const struct upsert {
    size_t rows;
    const char *sql;
} UPSERTS[] = {
    {UPSERT_BIG_CHUNK, SQL_UPSERT_BIG_CHUNK},
    {UPSERT_CHUNK, SQL_UPSERT_CHUNK},
    {1, SQL_UPSERT},
};

/* user.id and user.email are counted for search only (event_tags.h): the
 * summary shows the user as the "user" tag does. */
static const char SQL_SUMMARY[] =
    "SELECT key, value, times_seen, last_seen, total FROM ("
    " SELECT key, value, times_seen, last_seen,"
    "  SUM(times_seen) OVER (PARTITION BY key) AS total,"
    "  ROW_NUMBER() OVER (PARTITION BY key ORDER BY times_seen DESC, value) AS rn"
    " FROM issue_tags WHERE issue_id = $1 AND key NOT IN ('user.id', 'user.email')) t"
    " WHERE rn <= $2 ORDER BY key, rn";

struct pair {
    int64_t issue_id;
    const char *key, *value; /* borrowed from the events' tags */
    int64_t count, last_seen;
};

struct issue_tags_batch {
    struct pair *pairs;
    size_t npairs, max_pairs;
    uint32_t *slots; /* open addressing: index + 1 into pairs, 0 empty */
    size_t mask;
};

struct issue_tags_batch *issue_tags_batch_new(size_t max_pairs)
{
    struct issue_tags_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size_t slots = 16;
    while (slots < max_pairs * 2)
        slots <<= 1;
    b->max_pairs = max_pairs;
    b->mask = slots - 1;
    b->pairs = calloc(max_pairs ? max_pairs : 1, sizeof *b->pairs);
    b->slots = calloc(slots, sizeof *b->slots);
    if (!b->pairs || !b->slots) {
        issue_tags_batch_free(b);
        return NULL;
    }
    return b;
}

void issue_tags_batch_free(struct issue_tags_batch *b)
{
    if (!b) return;
    free(b->pairs);
    free(b->slots);
    free(b);
}

void issue_tags_batch_reset(struct issue_tags_batch *b)
{
    if (b->npairs) memset(b->slots, 0, (b->mask + 1) * sizeof *b->slots);
    b->npairs = 0;
}

static uint64_t pair_hash(int64_t issue_id, const char *key, const char *value)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)issue_id; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = value; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static void count_pair(struct issue_tags_batch *b, int64_t issue_id, const char *key,
                       const char *value, int64_t seen_ms)
{
    for (size_t s = pair_hash(issue_id, key, value) & b->mask;; s = (s + 1) & b->mask) {
        uint32_t k = b->slots[s];
        if (k == 0) {
            if (b->npairs == b->max_pairs) {
                metrics_add("periscope_issue_tags_dropped_total", NULL, 1);
                return;
            }
            b->pairs[b->npairs] = (struct pair){issue_id, key, value, 1, seen_ms};
            b->slots[s] = (uint32_t)++b->npairs;
            return;
        }
        struct pair *p = &b->pairs[k - 1];
        if (p->issue_id == issue_id && strcmp(p->key, key) == 0 && strcmp(p->value, value) == 0) {
            p->count++;
            if (seen_ms > p->last_seen) p->last_seen = seen_ms;
            return;
        }
    }
}

void issue_tags_batch_add(struct issue_tags_batch *b, int64_t issue_id,
                          const struct event_tags *tags, int64_t seen_ms)
{
    for (size_t i = 0; tags && i < tags->n; i++)
        count_pair(b, issue_id, tags->tag[i].key, tags->tag[i].value, seen_ms);
}

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->issue_id != y->issue_id) return x->issue_id < y->issue_id ? -1 : 1;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

int issue_tags_batch_flush(struct issue_tags_batch *b, struct db *db)
{
    int rc = 0;
    /* One order on every node, so two writers on one Postgres never wait
     * on each other's rows in opposite orders (deadlock). */
    qsort(b->pairs, b->npairs, sizeof *b->pairs, pair_cmp);
    size_t i = 0;
    while (i < b->npairs && rc == 0) {
        const struct upsert *u = UPSERTS;
        while (b->npairs - i < u->rows)
            u++;
        size_t n = u->rows;
        struct db_stmt *st = db_prepare(db, u->sql);
        if (!st) {
            rc = -EIO;
            break;
        }
        for (size_t k = 0; k < n; k++, i++) {
            const struct pair *p = &b->pairs[i];
            int first = (int)(5 * k);
            db_bind_int64(st, first + 1, p->issue_id);
            db_bind_text(st, first + 2, p->key, (size_t)-1);
            db_bind_text(st, first + 3, p->value, (size_t)-1);
            db_bind_int64(st, first + 4, p->count);
            db_bind_int64(st, first + 5, p->last_seen);
        }
        rc = db_step(st);
        rc = rc < 0 ? rc : 0;
    }
    issue_tags_batch_reset(b);
    return rc;
}

/* Appends the current row to the summary, starting a new key group when
 * the key changes. */
static int summary_row(json_t *out, json_t **group, struct db_stmt *st)
{
    json_t *key = db_col_json_text_or_empty(st, 0);
    if (!key) return -ENOMEM;
    const char *cur = *group ? json_string_value(json_object_get(*group, "key")) : NULL;
    if (!cur || strcmp(cur, json_string_value(key)) != 0) {
        *group = json_pack("{s:o, s:I, s:[]}", "key", key, "total", (json_int_t)db_col_int64(st, 4),
                           "top_values");
        if (!*group || json_array_append_new(out, *group) != 0) return -ENOMEM;
    } else {
        json_decref(key);
    }
    json_t *v =
        json_pack("{s:o, s:I, s:I}", "value", db_col_json_text_or_empty(st, 1), "count",
                  (json_int_t)db_col_int64(st, 2), "last_seen", (json_int_t)db_col_int64(st, 3));
    if (!v || json_array_append_new(json_object_get(*group, "top_values"), v) != 0) return -ENOMEM;
    return 0;
}

int issue_tags_summary(struct db *db, int64_t issue_id, int top_n, json_t **out)
{
    struct db_stmt *st = db_prepare(db, SQL_SUMMARY);
    if (!st) return -EIO;
    db_bind_int64(st, 1, issue_id);
    db_bind_int64(st, 2, top_n);
    json_t *arr = json_array(), *group = NULL;
    int rc = arr ? 0 : -ENOMEM;
    while (rc == 0 && (rc = db_step(st)) == DB_ROW)
        rc = summary_row(arr, &group, st);
    db_finish(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
