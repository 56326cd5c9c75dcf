/* store/scripts_notify — script change notifications between nodes. */
#include "store/scripts_notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int scripts_notify_changed(struct db *db, int64_t project_id)
{
    char payload[24];
    snprintf(payload, sizeof payload, "%" PRId64, project_id);
    return db_notify(db, SCRIPTS_NOTIFY_CHANNEL, payload);
}

int scripts_listen(struct db *db)
{
    return db_listen(db, SCRIPTS_NOTIFY_CHANNEL);
}

int scripts_wait_changed(struct db *db, int timeout_ms, int64_t *project_id)
{
    char channel[64], payload[32];
    int rc = db_wait_notification(db, timeout_ms, channel, sizeof channel, payload, sizeof payload);
    if (rc != 1) return rc;
    char *end = NULL;
    errno = 0;
    long long id = strtoll(payload, &end, 10);
    *project_id = (errno == 0 && end != payload && *end == '\0' && id > 0) ? (int64_t)id : 0;
    return 1;
}
