/* store/deliveries_suppress — a claimed delivery that is not to be sent
 * (no alert rule chose its destination, the project's alert() dropped it,
 * or its format() returned false): status 'suppressed' with the reason in
 * last_error, and no attempt. Like deliveries_record, only while the claim's
 * lease is ours. 0 or a negative errno. */
#ifndef PERISCOPE_STORE_DELIVERIES_SUPPRESS_H
#define PERISCOPE_STORE_DELIVERIES_SUPPRESS_H

#include "store/deliveries.h"

int deliveries_suppress(struct db *db, const struct delivery_claim *c, const char *reason,
                        long long now);

#endif
