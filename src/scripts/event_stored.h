/* event_stored — a stored event as the API shows it: the payload holds the
 * event JSON bytes as ingest received them (event.h); this parses them and
 * applies the same normalize_event the pipeline worker applied, with the
 * row's event_id and received_at, so the answer is the normalized event
 * byte for byte (cJSON_PrintUnformatted of the tree the worker grouped).
 * Payloads stored already normalized (before raw bytes were stored)
 * normalize to the same members and values; only message/logentry may
 * move to the end.
 *
 * Text that is not valid UTF-8 (stored before ingest repaired it) comes
 * out with U+FFFD in its place.
 *
 * Any thread, on a connection the caller holds. Returns 0 or a negative
 * errno: -ENOENT no such event in that project, -EIO payload corrupt or not
 * a JSON object, -E2BIG, -ENOMEM. */
#ifndef PERISCOPE_EVENT_STORED_H
#define PERISCOPE_EVENT_STORED_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct db;
struct event_tags;

/* Parses raw (len bytes) and normalizes it as event_id / received_at_ms.
 * *out: the tree (caller cJSON_Delete). */
int event_stored_normalize(const char *raw, size_t len, const uint8_t event_id[16],
                           int64_t received_at_ms, cJSON **out);

/* The tags the pipeline counted for a stored event: payload as stored
 * (zstd, len bytes) decompressed, normalized, tags extracted. *tags
 * malloc'd (NULL: none); ctx unused (the shape of issue_event_tags_fn,
 * store/issue_merge.h). */
int event_stored_tags(void *ctx, const void *payload, size_t len, const uint8_t event_id[16],
                      int64_t received_at_ms, struct event_tags **tags);

/* The stored event, normalized, as a tree (caller cJSON_Delete). */
int event_stored_load(struct db *db, int64_t project_id, const uint8_t event_id[16], cJSON **out);

/* The same, printed: *json NUL-terminated (caller frees), *len bytes. */
int event_stored_json(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                      size_t *len);

#endif
