/* overview — the counts the web interface shows beside lists and on an
 * issue page (SQL for both backends): a project's last 24 hours, an issue's
 * last 14 days, its distinct users and its first stored event.
 *
 * Read-only; every function takes a connection the caller holds (a pooled
 * one: the admin API's HTTP threads) and returns 0 or a negative errno.
 * Histograms are arrays of counts, oldest first, by events' received_at;
 * the last bucket is the current hour (or UTC day). Caller owns JSON. */
#ifndef PERISCOPE_STORE_OVERVIEW_H
#define PERISCOPE_STORE_OVERVIEW_H

#include <stdint.h>
#include "base/json.h"

#include "store/db.h"

#define OVERVIEW_PROJECT_HOURS 24
#define OVERVIEW_ISSUE_DAYS 14

struct project_overview {
    int64_t events_24h;        /* events received in the 24 hourly buckets */
    int64_t unresolved_issues; /* issues with status unresolved */
    cJSON *histogram_24h;      /* owned: OVERVIEW_PROJECT_HOURS counts */
};

struct issue_overview {
    cJSON *histogram_14d;    /* owned: OVERVIEW_ISSUE_DAYS daily counts */
    int64_t users;           /* distinct values of the issue's "user" tag */
    char first_event_id[33]; /* hex of its oldest stored event; "" when none is left */
};

int overview_project(struct db *db, int64_t project_id, int64_t now_ms,
                     struct project_overview *out);
int overview_issue(struct db *db, int64_t issue_id, int64_t now_ms, struct issue_overview *out);

#endif
