/* issues_internal — what issues.c shares with issues_list.c: the columns of
 * an issue row and its JSON. Not for use outside src/store/. */
#ifndef PERISCOPE_STORE_ISSUES_INTERNAL_H
#define PERISCOPE_STORE_ISSUES_INTERNAL_H

#include "base/json.h"
#include "store/db.h"

#define ISSUE_COLS                                                                                 \
    "id, project_id, title, culprit, level, status, first_seen, last_seen, times_seen, hash,"      \
    " assignee_id, user_count, first_release, last_release"

/* The issue row at the statement's current row (ISSUE_COLS order); NULL
 * when out of memory. */
cJSON *issues_row_json(struct db_stmt *st);

#endif
