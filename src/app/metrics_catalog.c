/* metrics_catalog — see metrics_catalog.h. */
#include "app/metrics_catalog.h"

#include <stdio.h>

#include "base/metrics.h"
#include "store/stats.h"
#include "store/store.h"

struct entry {
    const char *name, *type, *help;
};

/* Every family, with the labels its owner uses. */
static const struct entry CATALOG[] = {
    /* HTTP */
    {"periscope_http_requests_total", "counter",
     "Admin and probe requests answered, by route pattern and status code."},
    {"periscope_ingest_requests_total", "counter",
     "Ingest requests answered, by route (store|envelope) and status code."},
    /* ingest */
    {"periscope_events_total", "counter",
     "Events seen by ingest, by outcome (accepted, or the reason they were rejected)."},
    {"periscope_envelope_items_total", "counter", "Envelope items seen, by item type."},
    {"periscope_ingest_memory_bytes", "gauge",
     "Bytes of decoded bodies and parsed events ingest holds now."},
    {"periscope_ingest_memory_limit_bytes", "gauge", "INGEST_MEMORY_LIMIT."},
    /* pipeline */
    {"periscope_pipeline_events_total", "counter",
     "Events leaving the pipeline, by outcome (stored, duplicate, filtered, failed)."},
    {"periscope_events_scrubbed_total", "counter",
     "Events personal data scrubbing changed before they were kept, by project."},
    {"periscope_topic_depth", "gauge", "Items queued in a pipeline topic."},
    {"periscope_topic_capacity", "gauge", "Capacity of a pipeline topic."},
    {"periscope_topic_high_water", "gauge", "Largest depth a topic reached."},
    {"periscope_topic_rejected_full", "gauge", "Publishes refused because the topic was full."},
    {"periscope_writer_batch_size", "histogram", "Events per writer transaction."},
    {"periscope_counter_flushes_total", "counter",
     "Flushes of the buffered issue, tag and hourly counts, by outcome."},
    {"periscope_counter_rows_flushed_total", "counter", "Counter rows written by flushes."},
    {"periscope_counter_flush_seconds", "histogram", "Time of one counter flush."},
    {"periscope_counter_add_failures_total", "counter",
     "Batches whose counts could not be buffered (out of memory)."},
    {"periscope_writer_commit_seconds", "histogram",
     "Time to write and commit one writer transaction."},
    {"periscope_stage_stalls_total", "counter",
     "Times a pipeline worker, the writer or the notifier went STALL_TIMEOUT seconds busy without "
     "progress, by stage."},
    {"periscope_stage_stalled", "gauge",
     "1 while a thread of the stage is stalled (then /readyz answers 503), by stage."},
    /* scripts */
    {"periscope_script_errors_total", "counter",
     "Errors raised by project scripts, by project, hook and kind."},
    /* notifications */
    {"periscope_notification_attempts_total", "counter",
     "Delivery attempts, by destination type and outcome."},
    {"periscope_notification_duration_seconds", "histogram", "Time one delivery attempt took."},
    {"periscope_notifications_suppressed_total", "counter",
     "Deliveries not sent: no alert rule chose the destination, alert() or format() said no."},
    {"periscope_deliveries", "gauge", "Deliveries in the outbox, by status."},
    /* storage */
    {"periscope_db_errors_total", "counter",
     "Failed database statements, by backend or component."},
    {"periscope_retention_runs_total", "counter", "Retention passes run."},
    {"periscope_retention_deleted_total", "counter",
     "Events deleted by retention, by reason (age, cap)."},
    {"periscope_retention_errors_total", "counter", "Retention steps that failed."},
};

void metrics_catalog_register(void)
{
    for (size_t i = 0; i < sizeof CATALOG / sizeof CATALOG[0]; i++)
        metrics_describe(CATALOG[i].name, CATALOG[i].type, CATALOG[i].help);
}

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
