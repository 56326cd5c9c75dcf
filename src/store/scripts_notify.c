/* store/scripts_notify — change notifications between nodes. */
#include "store/scripts_notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int notify(struct db *db, const char *channel, int64_t project_id)
{
    char payload[24];
    snprintf(payload, sizeof payload, "%" PRId64, project_id);
    return db_notify(db, channel, payload);
}

int scripts_notify_changed(struct db *db, int64_t project_id)
{
    return notify(db, SCRIPTS_NOTIFY_CHANNEL, project_id);
}

int keys_notify_changed(struct db *db, int64_t project_id)
{
    return notify(db, KEYS_NOTIFY_CHANNEL, project_id);
}

int scripts_listen(struct db *db)
{
    int rc = db_listen(db, SCRIPTS_NOTIFY_CHANNEL);
    return rc ? rc : db_listen(db, KEYS_NOTIFY_CHANNEL);
}

int scripts_wait_changed(struct db *db, int timeout_ms, enum node_change *what, int64_t *project_id)
{
    char channel[64], payload[32];
    int rc = db_wait_notification(db, timeout_ms, channel, sizeof channel, payload, sizeof payload);
    if (rc != 1) return rc;
    *what = strcmp(channel, KEYS_NOTIFY_CHANNEL) == 0 ? NODE_CHANGE_KEYS : NODE_CHANGE_SCRIPT;
    char *end = NULL;
    errno = 0;
    long long id = strtoll(payload, &end, 10);
    *project_id = (errno == 0 && end != payload && *end == '\0' && id > 0) ? (int64_t)id : 0;
    return 1;
}
