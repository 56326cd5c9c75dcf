/* store/scripts_sample — the newest stored event of a project. */
#include "store/scripts_sample.h"

#include <errno.h>
#include <string.h>

int scripts_sample_event_id(struct db *db, int64_t project_id, uint8_t event_id[16])
{
    struct db_stmt *st = db_prepare(
        db, "SELECT event_id FROM events WHERE project_id = $1 ORDER BY id DESC LIMIT 1");
    if (!st || db_bind_int64(st, 1, project_id)) return -EIO;
    int rc = db_step_row(st, -ENOENT);
    if (rc == 0) {
        size_t len = 0;
        const void *raw = db_col_blob(st, 0, &len);
        rc = raw && len == 16 ? 0 : -EIO;
        if (rc == 0) memcpy(event_id, raw, 16);
    }
    db_finish(st);
    return rc;
}
