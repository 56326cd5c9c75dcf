/* users — people's accounts and their project memberships (SQL for both
 * backends).
 *
 * Functions take a connection the caller holds and return 0 or a negative
 * errno (-ENOENT: no such row, -EEXIST: the email is taken). JSON rows are
 * the caller's ({"id", "email", "name", "role", "created_at" (ms)}); the
 * password hash never leaves this file except through struct user_login. */
#ifndef PERISCOPE_STORE_USERS_H
#define PERISCOPE_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

#define USER_EMAIL_MAX 254
#define USER_NAME_MAX 200
#define USER_HASH_MAX 128

/* What login and authorization need of one account. */
struct user_login {
    int64_t id;
    char email[USER_EMAIL_MAX + 1];
    char role[16];
    char password_hash[USER_HASH_MAX];
};

/* email already normalized (accounts/email.h), role a role name. */
int users_create(struct db *db, const char *email, const char *name, const char *role,
                 const char *password_hash, int64_t *id_out);
int users_get(struct db *db, int64_t id, cJSON **out);
/* Users with id > after_id, ascending, at most limit: array. */
int users_list(struct db *db, int64_t after_id, int limit, cJSON **out);
/* NULL leaves a field as it is. */
int users_update(struct db *db, int64_t id, const char *email, const char *name, const char *role,
                 const char *password_hash);
/* Deletes the user with their sessions, tokens and memberships. */
int users_delete(struct db *db, int64_t id);
/* Users with that role (NULL: all). */
int users_count(struct db *db, const char *role, int64_t *out);
int users_by_email(struct db *db, const char *email, struct user_login *out);
int users_by_id(struct db *db, int64_t id, struct user_login *out);

/* The project's members as user rows, by id. */
int members_list(struct db *db, int64_t project_id, cJSON **out);
/* Replaces the project's members (its own transaction). -ENOENT when a
 * user id is unknown (nothing changes). */
int members_set(struct db *db, int64_t project_id, const int64_t *user_ids, size_t n);
/* The projects the user belongs to, ascending; *ids is the caller's (free). */
int members_projects(struct db *db, int64_t user_id, int64_t **ids, size_t *n);

#endif
