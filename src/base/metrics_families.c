/* metrics_families — the HELP text and type of every metric family the
 * server exports, the one table (metrics.h). A family is added here, once:
 * metrics_families_check rejects a name written twice, and the unit test
 * test_metrics_catalog fails on a duplicate or on a periscope_* name the
 * code increments without a row here. */
#include <errno.h>
#include <string.h>

#include "base/metrics.h"

/* Every family, with the labels its owner uses. */
const struct metrics_family metrics_families[] = {
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
    /* scripts and Lua */
    {"periscope_script_errors_total", "counter",
     "Errors raised by project scripts, by project, hook and kind; the default was used."},
    {"periscope_grouping_memo_total", "counter",
     "Default groupings answered from the shared memo (hit) or run in Lua (miss)."},
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

const size_t metrics_families_count = sizeof metrics_families / sizeof metrics_families[0];

const struct metrics_family *metrics_family_find(const char *name)
{
    for (size_t i = 0; i < metrics_families_count; i++)
        if (strcmp(metrics_families[i].name, name) == 0) return &metrics_families[i];
    return NULL;
}

int metrics_families_check(const char **duplicate)
{
    for (size_t i = 0; i < metrics_families_count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(metrics_families[i].name, metrics_families[j].name) == 0) {
                if (duplicate) *duplicate = metrics_families[i].name;
                return -EEXIST;
            }
    return 0;
}
