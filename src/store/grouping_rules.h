/* store/grouping_rules — a project's grouping rules in Sentry's syntax
 * (fingerprint rules and stack trace rules, two texts), SQL for both
 * backends. No row means Sentry's built-in rules alone.
 *
 * Functions take a connection the caller holds and return 0 or a negative
 * errno (-ENOENT: no such project, or no rules stored). */
#ifndef PERISCOPE_STORE_GROUPING_RULES_H
#define PERISCOPE_STORE_GROUPING_RULES_H

#include <stdint.h>
#include "store/db.h"

/* The project's rules: *fingerprint and *stacktrace malloc'd (caller
 * frees), *updated_ms when the rules were stored. -ENOENT when the project
 * has none (both left NULL). */
int grouping_rules_get(struct db *db, int64_t project_id, char **fingerprint, char **stacktrace,
                       int64_t *updated_ms);

/* Stores both texts as the project's rules (replacing what was there);
 * two empty texts remove them. -ENOENT when the project does not exist. */
int grouping_rules_set(struct db *db, int64_t project_id, const char *fingerprint,
                       const char *stacktrace);

/* Calls fn for every project with rules; stops early and returns fn's value
 * when it is not 0. The texts are borrowed for the call. */
typedef int (*grouping_rules_fn)(void *ctx, int64_t project_id, const char *fingerprint,
                                 const char *stacktrace);
int grouping_rules_for_each(struct db *db, grouping_rules_fn fn, void *ctx);

#endif
