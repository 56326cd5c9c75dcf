#include "notify/alert_data.h"

#include <string.h>
#include <time.h>

void notify_sample_alert(int64_t project_id, const char *project_name, const char *public_url,
                         long long now_ms, struct alert_data *out)
{
    *out = (struct alert_data){
        .kind = "test",
        .created_at_ms = now_ms,
        .message_id = "test",
        .public_url = public_url,
        .issue = {.project_id = project_id,
                  .title = "Test notification from Periscope",
                  .culprit = "periscope.test in send_test",
                  .level = "info",
                  .status = "unresolved",
                  .first_seen_ms = now_ms,
                  .last_seen_ms = now_ms,
                  .count = 1,
                  .hash = "00000000000000000000000000000000"},
        .project = {.id = project_id, .name = project_name},
        .event = {.event_id = "00000000000000000000000000000000",
                  .environment = "test",
                  .release = "test",
                  .level = "info"},
    };
}
