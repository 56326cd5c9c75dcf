/* notify/alert_data — the made-up alert of "send
 * a test" and the format() check (model/alert.h: struct alert_data; the
 * real ones come from the store, store/deliveries.h). Pure; thread-safe. */
#ifndef PERISCOPE_NOTIFY_ALERT_DATA_H
#define PERISCOPE_NOTIFY_ALERT_DATA_H

#include <stdint.h>

#include "model/alert.h"

/* A made-up alert (kind "test") of the project, at now_ms, its link under
 * public_url. The strings are borrowed: project_name and public_url must
 * outlive *out; nothing to clear. */
void notify_sample_alert(int64_t project_id, const char *project_name, const char *public_url,
                         long long now_ms, struct alert_data *out);

#endif
