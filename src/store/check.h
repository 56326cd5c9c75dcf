/* check — is the database whole? SQLite: PRAGMA quick_check (at every
 * start, before migrations) or PRAGMA integrity_check plus
 * foreign_key_check (`periscope check`). Postgres: every table read through
 * (a damaged page fails the read) and the migrations table present.
 *
 * Any thread, on a connection the caller holds. Never repairs anything. */
#ifndef PERISCOPE_CHECK_H
#define PERISCOPE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct db;

/* 0 when the check passed; else negative with the first problem found in
 * msg (one line). full: the slow, complete check. */
int store_check(struct db *db, bool full, char *msg, size_t msglen);

#endif
