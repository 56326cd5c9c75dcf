/* admin_triage — the triage parts of an issue's status change (issue 19):
 * {"status": "ignored", "ignore_until": {...}} and {"status": "resolved",
 * "resolved_in": "next_release" | "<version>"}, validated into the store's
 * specs. Used by admin_issues.c; the routes of releases and alert rules
 * are in admin_triage.c too (admin_routes_triage). */
#ifndef PERISCOPE_HTTP_ADMIN_TRIAGE_H
#define PERISCOPE_HTTP_ADMIN_TRIAGE_H

#include "base/json.h"

#include "http/admin.h"
#include "store/triage_read.h"

/* Reads ignore_until / resolved_in of body for status into the specs
 * (kind NULL when absent; strings borrowed from body). 0, or -EINVAL
 * after answering 400. */
int admin_triage_status_body(const cJSON *body, const char *status,
                             struct issue_snooze_spec *snooze,
                             struct issue_resolution_spec *resolution, struct admin_resp *resp);

#endif
