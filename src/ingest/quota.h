/* quota — per-project events-per-minute limit (the project's
 * rate_limit_per_minute; 0 means unlimited), counted in memory per node in
 * fixed one-minute windows.
 *
 * Thread-safe (one mutex around a hash table). Memory grows with the number
 * of projects that send, never with the number of requests. */
#ifndef PERISCOPE_QUOTA_H
#define PERISCOPE_QUOTA_H

#include <stdint.h>

#define QUOTA_WINDOW_MS 60000

struct quota;

struct quota *quota_new(void); /* NULL on allocation failure */
void quota_free(struct quota *q);

/* Charges n events to project at now_ms (wall or monotonic, used
 * consistently). 0 when they fit (all are counted), -EDQUOT when they do
 * not (none counted; *retry_after_s gets the seconds until the window
 * resets, >= 1), -ENOMEM. */
int quota_charge(struct quota *q, int64_t project_id, int limit_per_minute, int n, int64_t now_ms,
                 int *retry_after_s);

/* Whether the project has any room left in this window, without charging:
 * 0, or -EDQUOT with *retry_after_s (>= 1). Ingest asks before it reads a
 * body, so a project over its quota costs no decoding or parsing. */
int quota_check(struct quota *q, int64_t project_id, int limit_per_minute, int64_t now_ms,
                int *retry_after_s);

#endif
