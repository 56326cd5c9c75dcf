/* tokens — API tokens and first-run setup links, stored as the SHA-256
 * hex of the secret the client holds (SQL for both backends).
 *
 * Functions take a connection the caller holds; 0 or a negative errno
 * (-ENOENT: no such token). JSON rows are the caller's; they never carry
 * the hash: {"id", "name", "scope", "project_ids" (array or null),
 * "user_id" (null: made with the root key), "created_at", "expires_at",
 * "last_used_at"} (times ms or null). */
#ifndef PERISCOPE_STORE_TOKENS_H
#define PERISCOPE_STORE_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "store/db.h"

#define TOKEN_NAME_MAX 200
#define TOKEN_PROJECTS_MAX 100
#define TOKEN_TOUCH_MS 60000 /* last_used_at is written at most this often */

struct token_row {
    int64_t id;
    int64_t user_id; /* 0: the root key made it */
    char name[TOKEN_NAME_MAX + 1];
    char scope[8];
    bool all_projects;
    int64_t project_ids[TOKEN_PROJECTS_MAX];
    size_t nprojects;
    int64_t expires_at; /* 0: never */
    int64_t last_used_at;
};

/* user_id 0: made with the root key; project_ids NULL: every project;
 * expires_at 0: never. */
int tokens_create(struct db *db, const char *token_hash, const char *name, int64_t user_id,
                  const char *scope, const int64_t *project_ids, size_t n, int64_t expires_at,
                  int64_t *id_out);
int tokens_get(struct db *db, int64_t id, cJSON **out);
/* Tokens of a user (user_id > 0) or every token (0), by id. */
int tokens_list(struct db *db, int64_t user_id, cJSON **out);
/* The token whose digest this is (expired ones too: the caller decides). */
int tokens_lookup(struct db *db, const char *token_hash, struct token_row *out);
/* Records a use now (at most every TOKEN_TOUCH_MS). */
int tokens_touch(struct db *db, const struct token_row *t);
/* Deletes the token; with user_id > 0 only when it is that user's. */
int tokens_delete(struct db *db, int64_t id, int64_t user_id);

/* Setup links: the one live link replaces every earlier one. */
int setup_link_replace(struct db *db, const char *token_hash, int64_t expires_at);
/* Uses up the link (single use): 0, or -ENOENT when unknown or expired. */
int setup_link_consume(struct db *db, const char *token_hash);
/* 0 when the link is live (not used, not expired), else -ENOENT. */
int setup_link_check(struct db *db, const char *token_hash);

#endif
