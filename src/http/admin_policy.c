/* admin_policy — the access and activity table of every admin and auth
 * route (contract in admin_policy.h; README "Accounts and tokens" shows it
 * as the roles table). */
#include "http/admin_policy.h"

#include <string.h>

#define P "/api/admin/projects/{}"

const struct admin_policy admin_policies[] = {
    /* projects and keys */
    {"POST", "/api/admin/projects", ACCESS_ADMIN, "project.create", "project", "resp:id", "name"},
    {"GET", "/api/admin/projects", ACCESS_ANY, NULL, NULL, NULL, NULL},
    {"GET", P, ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PATCH", P, ACCESS_PROJECT_ADMIN, "project.update", "project", "param:0",
     "name,rate_limit_per_minute,scrubbing,grouping_transition_days"},
    {"DELETE", P, ACCESS_PROJECT_ADMIN, "project.delete", "project", "param:0", NULL},
    {"POST", P "/keys", ACCESS_PROJECT_ADMIN, "key.create", "key", "resp:public_key", NULL},
    {"GET", P "/keys", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"DELETE", P "/keys/{}", ACCESS_PROJECT_ADMIN, "key.revoke", "key", "param:1", NULL},
    {"GET", P "/members", ACCESS_PROJECT_ADMIN, NULL, NULL, NULL, NULL},
    {"PUT", P "/members", ACCESS_PROJECT_ADMIN, "members.update", "project", "param:0", "user_ids"},
    {"GET", P "/activity", ACCESS_READ, NULL, NULL, NULL, NULL},
    /* issues and events */
    {"GET", P "/issues", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PATCH", P "/issues", ACCESS_WRITE, "issue.update", "issue", "query:ids", "status"},
    {"GET", P "/issues/{}", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PATCH", P "/issues/{}", ACCESS_WRITE, "issue.update", "issue", "param:1",
     "status,assignee_id,ignore_until,resolved_in"},
    {"POST", P "/issues/merge", ACCESS_WRITE, "issue.merge", "issue", "resp:id", NULL},
    {"DELETE", P "/issues/{}/hashes/{}", ACCESS_WRITE, "issue.unmerge", "issue", "param:1", NULL},
    {"POST", P "/issues/{}/comments", ACCESS_WRITE, "issue.comment", "issue", "param:1", NULL},
    {"GET", P "/issues/{}/events", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/issues/{}/activity", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/events/{}", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/alerts", ACCESS_READ, NULL, NULL, NULL, NULL},
    /* triage: releases and alert rules */
    {"GET", P "/releases", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/alert_rules", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PUT", P "/alert_rules", ACCESS_WRITE, "alert_rules.update", "alert_rules", NULL, NULL},
    /* the web interface's counts (admin_overview.c) */
    {"GET", P "/stats", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/issues/{}/stats", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/script/versions/{}", ACCESS_READ, NULL, NULL, NULL, NULL},
    /* destinations */
    {"POST", P "/alert_notification_destinations", ACCESS_WRITE, "destination.create",
     "destination", "resp:id", "type,name,enabled"},
    {"GET", P "/alert_notification_destinations", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"GET", P "/alert_notification_destinations/{}", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PATCH", P "/alert_notification_destinations/{}", ACCESS_WRITE, "destination.update",
     "destination", "param:1", "name,enabled"},
    {"DELETE", P "/alert_notification_destinations/{}", ACCESS_WRITE, "destination.delete",
     "destination", "param:1", NULL},
    {"POST", P "/alert_notification_destinations/{}/test", ACCESS_WRITE, NULL, NULL, NULL, NULL},
    /* scripts and grouping rules */
    {"GET", P "/script", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PUT", P "/script", ACCESS_WRITE, "script.upload", "script", "resp:version", NULL},
    {"DELETE", P "/script", ACCESS_WRITE, "script.delete", "script", NULL, NULL},
    {"GET", P "/script/versions", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"POST", P "/script/rollback", ACCESS_WRITE, "script.rollback", "script", "resp:version",
     "version"},
    {"POST", P "/script/test", ACCESS_WRITE, NULL, NULL, NULL, NULL},
    {"GET", P "/grouping-rules", ACCESS_READ, NULL, NULL, NULL, NULL},
    {"PUT", P "/grouping-rules", ACCESS_WRITE, "grouping_rules.update", "grouping_rules", NULL,
     NULL},
    {"DELETE", P "/grouping-rules", ACCESS_WRITE, "grouping_rules.delete", "grouping_rules", NULL,
     NULL},
    /* users, tokens, activity */
    {"POST", "/api/admin/users", ACCESS_ADMIN, "user.create", "user", "resp:id", "email,name,role"},
    {"GET", "/api/admin/users", ACCESS_ADMIN, NULL, NULL, NULL, NULL},
    {"GET", "/api/admin/users/{}", ACCESS_ADMIN, NULL, NULL, NULL, NULL},
    {"PATCH", "/api/admin/users/{}", ACCESS_ADMIN, "user.update", "user", "param:0",
     "email,name,role"},
    {"DELETE", "/api/admin/users/{}", ACCESS_ADMIN, "user.delete", "user", "param:0", NULL},
    {"POST", "/api/admin/tokens", ACCESS_ACCOUNT, "token.create", "token", "resp:id",
     "name,scope,project_ids,expires_at"},
    {"GET", "/api/admin/tokens", ACCESS_ACCOUNT, NULL, NULL, NULL, NULL},
    {"DELETE", "/api/admin/tokens/{}", ACCESS_ACCOUNT, "token.revoke", "token", "param:0", NULL},
    {"GET", "/api/admin/activity", ACCESS_ADMIN, NULL, NULL, NULL, NULL},
    /* the browser's (auth_routes.c records logins itself) */
    {"POST", "/api/auth/login", ACCESS_PUBLIC, NULL, NULL, NULL, NULL},
    {"POST", "/api/auth/logout", ACCESS_ANY, NULL, NULL, NULL, NULL},
    {"GET", "/api/auth/me", ACCESS_ANY, NULL, NULL, NULL, NULL},
    {"GET", "/api/auth/setup", ACCESS_PUBLIC, NULL, NULL, NULL, NULL},
    {"POST", "/api/auth/setup", ACCESS_PUBLIC, NULL, NULL, NULL, NULL},
    {NULL, NULL, ACCESS_ADMIN, NULL, NULL, NULL, NULL},
};

const struct admin_policy *admin_policy_find(const char *method, const char *pattern)
{
    for (const struct admin_policy *p = admin_policies; p->method; p++)
        if (strcmp(p->method, method) == 0 && strcmp(p->pattern, pattern) == 0) return p;
    return NULL;
}
