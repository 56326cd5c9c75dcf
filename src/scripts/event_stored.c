/* event_stored — stored bytes → the normalized event (event_stored.h). */
#include "scripts/event_stored.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/compress.h"
#include "model/event.h"
#include "model/event_tags.h"
#include "model/normalize.h"
#include "base/utf8.h"
#include "store/events_read.h"

int event_stored_normalize(const char *raw, size_t len, const uint8_t event_id[16],
                           int64_t received_at_ms, cJSON **out)
{
    struct grouped_event ev = {.received_at_ms = received_at_ms};
    memcpy(ev.event_id, event_id, sizeof ev.event_id);
    cJSON *json = cJSON_ParseWithLength(raw, len);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return -EIO;
    }
    int rc = normalize_event(json, &ev);
    free(ev.environment);
    free(ev.release);
    if (rc != 0) {
        cJSON_Delete(json);
        return rc == -EINVAL ? -EIO : rc;
    }
    *out = json;
    return 0;
}

int event_stored_load(struct db *db, int64_t project_id, const uint8_t event_id[16], cJSON **out)
{
    char *raw = NULL;
    size_t len = 0;
    int64_t received_at_ms = 0;
    int rc = events_get_stored(db, project_id, event_id, &raw, &len, &received_at_ms);
    if (rc == 0) rc = event_stored_normalize(raw, len, event_id, received_at_ms, out);
    free(raw);
    return rc;
}

int event_stored_json(struct db *db, int64_t project_id, const uint8_t event_id[16], char **json,
                      size_t *len)
{
    cJSON *tree = NULL;
    int rc = event_stored_load(db, project_id, event_id, &tree);
    if (rc != 0) return rc;
    *json = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    if (!*json) return -ENOMEM;
    *len = strlen(*json);
    /* Stored before ingest repaired UTF-8: repaired on the way out. */
    char *fixed;
    size_t fixed_len;
    rc = utf8_repair(*json, *len, &fixed, &fixed_len);
    if (rc != 0) {
        free(*json);
        *json = fixed;
        *len = fixed_len;
    }
    return rc < 0 ? rc : 0;
}

int event_stored_tags(void *ctx, const void *payload, size_t len, const uint8_t event_id[16],
                      int64_t received_at_ms, struct event_tags **tags)
{
    (void)ctx;
    char *raw = NULL;
    size_t rawlen = 0;
    cJSON *tree = NULL;
    *tags = NULL;
    int rc = payload ? decompress_payload(payload, len, EVENTS_PAYLOAD_MAX, &raw, &rawlen) : -EIO;
    if (rc == 0) rc = event_stored_normalize(raw, rawlen, event_id, received_at_ms, &tree);
    if (rc == 0) rc = event_tags_extract(tree, tags);
    cJSON_Delete(tree);
    free(raw);
    return rc;
}
