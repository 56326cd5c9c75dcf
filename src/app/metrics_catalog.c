/* metrics_catalog — see metrics_catalog.h. */
#include "app/metrics_catalog.h"

#include <stdio.h>

#include "base/metrics.h"
#include "store/stats.h"
#include "store/store.h"

static void set_deliveries(const char *status, int64_t n, void *ctx)
{
    (void)ctx;
    char labels[64];
    snprintf(labels, sizeof labels, "status=\"%s\"", status);
    metrics_set("periscope_deliveries", labels, (double)n);
}

static void collect_deliveries(void *ctx)
{
    struct store *st = ctx;
    /* Every status once, so a series that drops to zero says so. */
    static const char *const statuses[] = {"pending", "sending", "sent", "failed"};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        set_deliveries(statuses[i], 0, NULL);
    struct db *db = store_acquire(st);
    stats_deliveries_by_status(db, set_deliveries, NULL);
    store_release(st, db);
}

void metrics_catalog_register_store(struct store *st)
{
    metrics_register_collector(collect_deliveries, st);
}
