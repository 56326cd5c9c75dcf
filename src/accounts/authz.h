/* authz — who may do what: roles, token scopes, the caller of a request
 * (struct principal) and the one decision every admin route goes through.
 *
 * Levels order the rights: 1 read (viewer, "read" tokens), 2 triage and
 * configure (member, "write" tokens), 3 everything (admin, "admin"
 * tokens, the root key). A token acts with at most its creator's rights:
 * its level is the lower of its scope and its creator's role, its projects
 * those both allow. Admins and the root key see every project; members and
 * viewers the projects they belong to.
 *
 * Pure: no I/O, any thread. The principal owns its project list. */
#ifndef PERISCOPE_ACCOUNTS_AUTHZ_H
#define PERISCOPE_ACCOUNTS_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum level { LEVEL_NONE = 0, LEVEL_READ = 1, LEVEL_WRITE = 2, LEVEL_ADMIN = 3 };

/* "viewer" | "member" | "admin" ⇄ LEVEL_READ | LEVEL_WRITE | LEVEL_ADMIN. */
const char *authz_role_name(enum level l);
enum level authz_role_parse(const char *s); /* LEVEL_NONE when not a role */
/* "read" | "write" | "admin" ⇄ the same levels. */
const char *authz_scope_name(enum level l);
enum level authz_scope_parse(const char *s);

/* What a route asks of its caller. */
enum access {
    ACCESS_PUBLIC,        /* no credentials (login, first-run setup) */
    ACCESS_ANY,           /* any valid credentials */
    ACCESS_ACCOUNT,       /* a person's own things (tokens): a session, the root key, or
                           * an admin-scope token for every project */
    ACCESS_READ,          /* project {0}: seen, level >= read */
    ACCESS_WRITE,         /* project {0}: seen, level >= write (triage, scripts, destinations) */
    ACCESS_PROJECT_ADMIN, /* project {0}: seen, level admin (settings, keys, members) */
    ACCESS_ADMIN,         /* level admin over every project (users, new projects) */
};

enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_ROOT, PRINCIPAL_SESSION, PRINCIPAL_TOKEN };

#define PRINCIPAL_LABEL_MAX 256

struct principal {
    enum principal_kind kind;
    enum level level;  /* effective */
    bool all_projects; /* else only projects[] */
    int64_t *projects; /* sorted ascending, owned */
    size_t nprojects;
    int64_t user_id;                 /* the person (session, or a token's creator); 0: none */
    int64_t token_id;                /* PRINCIPAL_TOKEN */
    char label[PRINCIPAL_LABEL_MAX]; /* the person's email, or the token's name */
    char session_hash[65];           /* PRINCIPAL_SESSION: the stored digest of its id */
    char csrf_token[65];             /* PRINCIPAL_SESSION */
};

enum authz_result { AUTHZ_OK = 0, AUTHZ_UNAUTHENTICATED, AUTHZ_FORBIDDEN, AUTHZ_NOT_FOUND };

/* The decision for a route of the given access; project_id is the route's
 * project ({0}) for the project accesses, else ignored. A project the
 * caller cannot see is AUTHZ_NOT_FOUND, before any level check, so a
 * route never tells whether it exists. */
enum authz_result authz_check(const struct principal *p, enum access a, int64_t project_id);

/* True when p may see project id. */
bool authz_sees(const struct principal *p, int64_t project_id);

/* A person's rights: role level; every project for admins, else the given
 * memberships (copied, sorted). 0 or -ENOMEM. */
int authz_set_person(struct principal *p, enum level role, const int64_t *projects, size_t n);

/* Narrows p (a person's rights, or the root's) to a token's: level at most
 * scope, projects only those of ids when ids is not NULL (n may be 0: then
 * none). 0 or -ENOMEM. */
int authz_narrow_to_token(struct principal *p, enum level scope, const int64_t *ids, size_t n);

/* Frees the project list; p becomes PRINCIPAL_NONE. */
void authz_clear(struct principal *p);

#endif
