/* admin_policy — one table saying, for every route of the admin and auth
 * APIs, what it asks of its caller (accounts/authz.h enum access) and how
 * a successful call is written to the activity record: the action's name,
 * the target and where its id comes from, and which body fields are
 * recorded with their values (other fields present are recorded by name
 * only, as "(changed)", so no secret reaches the record).
 *
 * A route without a row is refused (403): nothing is open by omission.
 * Pure table; any thread. */
#ifndef PERISCOPE_HTTP_ADMIN_POLICY_H
#define PERISCOPE_HTTP_ADMIN_POLICY_H

#include "accounts/authz.h"

struct admin_policy {
    const char *method;
    const char *pattern; /* as in the route tables */
    enum access access;
    const char *action;      /* NULL: not recorded (reads, dry runs, tests) */
    const char *target_type; /* "issue", "project", … */
    const char *target_from; /* "param:N", "resp:FIELD", "query:ids" (one row per id) */
    const char *fields;      /* body fields recorded with their values, "a,b" */
};

/* The row of the route, or NULL. */
const struct admin_policy *admin_policy_find(const char *method, const char *pattern);

/* Every row, ending with a row whose method is NULL (tests walk it). */
extern const struct admin_policy admin_policies[];

#endif
