/* deliveries — the notification outbox (SQL for both backends): claiming
 * due deliveries, recording attempts, holding throttled ones back for a
 * digest, the alert data a message is made of, and the admin listing of
 * alerts with their deliveries and attempts.
 *
 * Claiming is safe with several nodes: Postgres claims with
 * FOR UPDATE SKIP LOCKED, SQLite (one writer at a time) with the same
 * UPDATE … RETURNING under its write lock. A claim is a lease
 * (locked_until): a node that dies mid-send leaves the row to be claimed
 * again when the lease ends; a node whose lease ran out records nothing.
 *
 * Functions take a connection the caller holds, return 0 or a negative
 * errno; JSON results are owned by the caller. Times are ms since epoch. */
#ifndef PERISCOPE_STORE_DELIVERIES_H
#define PERISCOPE_STORE_DELIVERIES_H

#include <stdbool.h>
#include <stdint.h>
#include "base/json.h"
#include "model/alert.h"
#include "store/db.h"

struct delivery_claim {
    int64_t id, alert_id, destination_id;
    int attempts;         /* attempts made before this one */
    bool held_for_digest; /* held back by the throttle: goes in a digest */
    bool rule_match;      /* an alert rule chose its destination (notify/route.h) */
    long long lease;      /* locked_until written by the claim (the lease token) */
};

/* Claims up to max deliveries due at now (pending, or sending with an ended
 * lease): status sending, locked_until now + lease_ms. *n gets the count. */
int deliveries_claim(struct db *db, long long now, long long lease_ms, int max,
                     struct delivery_claim *out, int *n);

struct delivery_outcome {
    long long attempted_at;
    long status_code;  /* HTTP or SMTP code; 0: none */
    const char *error; /* NULL on success */
    long long duration_ms;
    const char *status;        /* "sent" | "pending" | "failed" */
    long long next_attempt_at; /* for "pending" */
};

/* Stores one attempt and the delivery's new state in one transaction, for
 * each of the n claims (a digest covers several). A claim whose lease is no
 * longer ours is skipped (another node has it). */
int deliveries_record(struct db *db, const struct delivery_claim *claims, int n,
                      const struct delivery_outcome *o);

/* Gives a claim back without an attempt: due again at next_attempt_at;
 * held marks it for a digest. */
int deliveries_release(struct db *db, const struct delivery_claim *c, long long next_attempt_at,
                       bool held);

/* The data a message about the alert is made of (model/alert.h), its text
 * columns made valid UTF-8 (U+FFFD for what is not) and owned by *out
 * (alert_data_clear); the event's fields NULL when the event is gone;
 * message_id and public_url are left for the caller. -ENOENT when the
 * alert is gone, -ENOMEM, or a database error. (store/deliveries_alert.c) */
int deliveries_alert_data(struct db *db, int64_t alert_id, struct alert_data *out);

/* One pending delivery per enabled destination of the project, due now
 * (for the writer's outbox transaction; idempotent). */
int deliveries_enqueue(struct db *db, int64_t alert_id, int64_t project_id, long long now);

/* The project's alerts with id < before_id (0: from the newest), newest
 * first, at most limit, each {"id", "issue_id", "kind", "created_at",
 * "issue_title", "deliveries": [{"id", "destination_id", "destination_name",
 * "destination_type", "status", "attempt_count", "next_attempt_at",
 * "last_status", "last_error", "created_at", "updated_at",
 * "attempts": [{"attempted_at", "status_code", "error", "duration_ms"}]}]}. */
int deliveries_list_alerts(struct db *db, int64_t project_id, int64_t before_id, int limit,
                           cJSON **out);

#endif
