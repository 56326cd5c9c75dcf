/* store/project_scrub — a project's personal data scrubbing settings
 * (scrub.h), columns of the projects table (migration 0140), for both
 * backends. The field lists are kept as names joined by ','.
 *
 * Functions take a connection the caller holds and return 0 or a negative
 * errno (-ENOENT: no such project, -EIO: a stored list no longer parses). */
#ifndef PERISCOPE_STORE_PROJECT_SCRUB_H
#define PERISCOPE_STORE_PROJECT_SCRUB_H

#include <stdint.h>

#include "store/db.h"
#include "model/scrub.h"

/* The columns PROJECT_SCRUB_COLUMNS names, in that order, for queries that
 * read them with other columns (prefix "p."). */
#define PROJECT_SCRUB_COLUMNS                                                                      \
    "p.scrub_enabled, p.scrub_ip_addresses, p.scrub_sensitive_fields, p.scrub_safe_fields"

/* The settings from the four PROJECT_SCRUB_COLUMNS starting at col of the
 * current row. 0 or -EIO. */
int project_scrub_from_row(struct db_stmt *st, int col, struct scrub_settings *out);

int project_scrub_get(struct db *db, int64_t project_id, struct scrub_settings *out);

/* Replaces the project's settings (validated by the caller). */
int project_scrub_set(struct db *db, int64_t project_id, const struct scrub_settings *s);

/* Calls fn for each project whose settings differ from the defaults, in id
 * order; stops at and returns fn's first non-zero result. */
typedef int (*project_scrub_fn)(void *ctx, int64_t project_id, const struct scrub_settings *s);
int project_scrub_for_each(struct db *db, project_scrub_fn fn, void *ctx);

#endif
