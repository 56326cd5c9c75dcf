/* stats — counts the /metrics collectors read from the database (SQL for
 * both backends). Runs on the HTTP thread rendering /metrics, on a pooled
 * connection the caller holds; read-only. */
#ifndef PERISCOPE_STORE_STATS_H
#define PERISCOPE_STORE_STATS_H

#include <stdint.h>

struct db;

/* Calls fn once per delivery status present (pending, sending, sent,
 * failed) with its row count. 0 or negative. */
int stats_deliveries_by_status(struct db *db, void (*fn)(const char *status, int64_t n, void *ctx),
                               void *ctx);

#endif
