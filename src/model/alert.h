/* alert — the message the writer publishes on the "alerts" topic after a
 * commit that raised alerts. The deliveries table is the source of truth
 * (the outbox); the message only wakes the notifier early. The notifier owns
 * and frees it (free()). */
#ifndef PERISCOPE_ALERT_H
#define PERISCOPE_ALERT_H

#include <stdint.h>

struct alert_msg {
    int64_t alert_id;
    int64_t project_id;
    int64_t issue_id;
    char kind[16]; /* "new" | "regression" */
};

#endif
