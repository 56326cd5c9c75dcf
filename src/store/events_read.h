/* events_read — reading stored events for the admin API (SQL for both
 * backends). The writer inserts events (store/events_write.h) and
 * retention deletes them (store/events_retention.h); this module only
 * reads.
 *
 * Functions take a connection the caller holds, return 0 or a negative
 * errno (-ENOENT: no such event/issue in that project) and hand JSON or text
 * to the caller (caller owns). An event row is
 *   {"event_id" (32 hex), "issue_id", "timestamp", "received_at" (ms),
 *    "level", "environment", "release", "message"}. */
#ifndef PERISCOPE_STORE_EVENTS_READ_H
#define PERISCOPE_STORE_EVENTS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

/* Largest decompressed payload served (the ingest cap per event is 1 MiB;
 * normalization adds little). */
#define EVENTS_PAYLOAD_MAX (8u << 20)

/* A page of the issue's events, newest first (by storage order). With
 * has_cursor, only events stored before before_id. *out: array of at most
 * limit rows; *next_id: the id to continue before, 0 when this is the last
 * page. */
int events_list_for_issue(struct db *db, int64_t project_id, int64_t issue_id, bool has_cursor,
                          int64_t before_id, int limit, cJSON **out, int64_t *next_id);

/* The issue's newest event row, -ENOENT when it has none (left); its
 * binary id into event_id (for events_get_payload). */
int events_latest(struct db *db, int64_t project_id, int64_t issue_id, cJSON **out,
                  uint8_t event_id[16]);

/* The stored event JSON, decompressed: *json (NUL-terminated, caller
 * frees) of *len bytes. The writer stores the bytes as received, so this is
 * not yet normalized: the API answers with event_stored.h, which normalizes
 * it. -EIO when the stored payload is corrupt. */
int events_get_payload(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                       size_t *len);

/* The same, and the row's received_at (ms) into *received_at_ms, the input
 * normalization needs besides the id. */
int events_get_stored(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                      size_t *len, int64_t *received_at_ms);

#endif
