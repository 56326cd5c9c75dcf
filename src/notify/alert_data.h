/* notify/alert_data — the alert table the formatters read (its shape is
 * documented at the top of lua/periscope/format.lua), built from the
 * store's alert context. Pure; thread-safe. Results are owned by the
 * caller (json_decref). */
#ifndef PERISCOPE_NOTIFY_ALERT_DATA_H
#define PERISCOPE_NOTIFY_ALERT_DATA_H

#include <stdint.h>
#include <jansson.h>

/* From deliveries_alert_context()'s object. public_url has no trailing
 * slash requirement; message_id is stable across retries ("dlv_<id>").
 * NULL on OOM. */
json_t *notify_alert_data(const json_t *ctx, const char *public_url, const char *message_id);

/* A made-up alert for the admin "send a test" endpoint. */
json_t *notify_sample_alert(int64_t project_id, const char *project_name, const char *public_url,
                            long long now_ms);

/* RFC 3339 UTC with milliseconds: "2026-11-25T18:00:00.123Z". */
void notify_time_rfc3339(long long ms, char out[32]);

#endif
