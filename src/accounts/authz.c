/* authz — roles, scopes and the route decision (contract in authz.h). */
#include "accounts/authz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const ROLES[] = {NULL, "viewer", "member", "admin"};
static const char *const SCOPES[] = {NULL, "read", "write", "admin"};

static enum level parse(const char *const names[4], const char *s)
{
    for (int l = LEVEL_READ; s && l <= LEVEL_ADMIN; l++)
        if (strcmp(names[l], s) == 0) return (enum level)l;
    return LEVEL_NONE;
}

const char *authz_role_name(enum level l)
{
    return l >= LEVEL_READ && l <= LEVEL_ADMIN ? ROLES[l] : "none";
}

enum level authz_role_parse(const char *s)
{
    return parse(ROLES, s);
}

const char *authz_scope_name(enum level l)
{
    return l >= LEVEL_READ && l <= LEVEL_ADMIN ? SCOPES[l] : "none";
}

enum level authz_scope_parse(const char *s)
{
    return parse(SCOPES, s);
}

bool authz_sees(const struct principal *p, int64_t project_id)
{
    if (p->kind == PRINCIPAL_NONE) return false;
    if (p->all_projects) return true;
    size_t lo = 0, hi = p->nprojects;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->projects[mid] == project_id) return true;
        if (p->projects[mid] < project_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static enum authz_result at_least(const struct principal *p, enum level need)
{
    return p->level >= need ? AUTHZ_OK : AUTHZ_FORBIDDEN;
}

enum authz_result authz_check(const struct principal *p, enum access a, int64_t project_id)
{
    if (a == ACCESS_PUBLIC) return AUTHZ_OK;
    if (p->kind == PRINCIPAL_NONE) return AUTHZ_UNAUTHENTICATED;
    switch (a) {
    case ACCESS_ANY:
        return AUTHZ_OK;
    case ACCESS_ACCOUNT:
        if (p->kind != PRINCIPAL_TOKEN) return AUTHZ_OK;
        return p->level == LEVEL_ADMIN && p->all_projects ? AUTHZ_OK : AUTHZ_FORBIDDEN;
    case ACCESS_ADMIN:
        return p->level == LEVEL_ADMIN && p->all_projects ? AUTHZ_OK : AUTHZ_FORBIDDEN;
    case ACCESS_READ:
    case ACCESS_WRITE:
    case ACCESS_PROJECT_ADMIN:
        if (!authz_sees(p, project_id)) return AUTHZ_NOT_FOUND;
        return at_least(p, a == ACCESS_READ    ? LEVEL_READ
                           : a == ACCESS_WRITE ? LEVEL_WRITE
                                               : LEVEL_ADMIN);
    default:
        return AUTHZ_FORBIDDEN;
    }
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int set_projects(struct principal *p, const int64_t *ids, size_t n)
{
    int64_t *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (n && !copy) return -ENOMEM;
    if (n) memcpy(copy, ids, n * sizeof *copy);
    if (n) qsort(copy, n, sizeof *copy, cmp_id);
    free(p->projects);
    p->projects = copy;
    p->nprojects = n;
    return 0;
}

int authz_set_person(struct principal *p, enum level role, const int64_t *projects, size_t n)
{
    p->level = role;
    p->all_projects = role == LEVEL_ADMIN;
    return set_projects(p, p->all_projects ? NULL : projects, p->all_projects ? 0 : n);
}

int authz_narrow_to_token(struct principal *p, enum level scope, const int64_t *ids, size_t n)
{
    if (scope < p->level) p->level = scope;
    if (!ids) return 0;
    int64_t *keep = n ? malloc(n * sizeof *keep) : NULL;
    size_t k = 0;
    if (n && !keep) return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (authz_sees(p, ids[i])) keep[k++] = ids[i];
    p->all_projects = false;
    int rc = set_projects(p, keep, k);
    free(keep);
    return rc;
}

void authz_clear(struct principal *p)
{
    free(p->projects);
    memset(p, 0, sizeof *p);
}
