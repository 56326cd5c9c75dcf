/* writer_counters — see writer_counters.h. */
#include "pipeline/writer_counters.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "pipeline/writer_batch.h"
#include "store/counters.h"

struct writer_counters {
    struct db *db;
    struct counter_buffer *buf;
    int flush_ms, node_id;
    int64_t due_ms; /* when the buffer must be flushed; 0: it is empty */
};

static const double FLUSH_SECONDS_BOUNDS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1,    2.5};

struct writer_counters *writer_counters_new(struct db *db, int flush_ms, int node_id)
{
    struct writer_counters *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->buf = counter_buffer_new();
    if (!c->buf) {
        free(c);
        return NULL;
    }
    c->db = db;
    c->flush_ms = flush_ms;
    c->node_id = node_id;
    return c;
}

void writer_counters_free(struct writer_counters *c)
{
    if (!c) return;
    if (c->db) writer_counters_flush(c);
    counter_buffer_free(c->buf);
    free(c);
}

int writer_counters_flush(struct writer_counters *c)
{
    size_t rows = counter_buffer_rows(c->buf);
    if (rows == 0) return 0;
    int64_t t0 = clock_mono_ms();
    int64_t a_ns = clock_mono_ns();
    int rc = counters_flush(c->db, c->buf, c->node_id);
    double s = clock_seconds_since(a_ns);
    if (rc != 0) {
        /* Kept for the next try; past a crash the restart reconciles. */
        log_warn("counters not flushed", "rows=%zu error=%d", rows, rc);
        metrics_add("periscope_counter_flushes_total", "outcome=\"failed\"", 1);
        c->due_ms = t0 + (c->flush_ms > 0 ? c->flush_ms : 1000);
        return rc;
    }
    metrics_add("periscope_counter_flushes_total", "outcome=\"ok\"", 1);
    metrics_add("periscope_counter_rows_flushed_total", NULL, (double)rows);
    metrics_observe("periscope_counter_flush_seconds", NULL, s, FLUSH_SECONDS_BOUNDS,
                    sizeof FLUSH_SECONDS_BOUNDS / sizeof FLUSH_SECONDS_BOUNDS[0]);
    c->due_ms = 0;
    return 0;
}

void writer_counters_add(struct writer_counters *c, const struct writer_batch *batch,
                         struct grouped_event *const *evs, size_t n)
{
    if (writer_batch_count(batch, evs, n, c->buf) != 0) {
        log_error("event counts lost (out of memory)", "events=%zu", n);
        metrics_add("periscope_counter_add_failures_total", NULL, 1);
    }
    if (c->due_ms == 0 && counter_buffer_rows(c->buf) > 0)
        c->due_ms = clock_mono_ms() + c->flush_ms;
    if (c->flush_ms == 0 || counter_buffer_rows(c->buf) >= WRITER_COUNTERS_MAX_ROWS)
        writer_counters_flush(c);
}

int writer_counters_wait_ms(const struct writer_counters *c)
{
    if (c->due_ms == 0) return -1;
    int64_t left = c->due_ms - clock_mono_ms();
    return left > 0 ? (int)left : 0;
}

void writer_counters_tick(struct writer_counters *c)
{
    if (c->due_ms != 0 && clock_mono_ms() >= c->due_ms) writer_counters_flush(c);
}
