/* metrics — process-wide Prometheus counters, gauges and histograms,
 * rendered as text by GET /metrics.
 *
 * Series are created on first use, keyed by name + label text; names follow
 * Prometheus conventions (periscope_events_total, …), labels are the
 * pre-formatted inside of the braces: "outcome=\"accepted\"" or NULL.
 * Thread-safe; cheap enough for the hot path (one short mutex hold). */
#ifndef PERISCOPE_METRICS_H
#define PERISCOPE_METRICS_H

#include <stddef.h>

/* Every family the server exports: name, type and HELP text, one row each
 * (base/metrics_families.c; /metrics prints the HELP line from it). */
struct metrics_family {
    const char *name, *type, *help;
};
extern const struct metrics_family metrics_families[];
extern const size_t metrics_families_count;

/* The family's row, or NULL. */
const struct metrics_family *metrics_family_find(const char *name);

/* 0, or -EEXIST when a name has two rows (the first such in *duplicate). */
int metrics_families_check(const char **duplicate);

void metrics_add(const char *name, const char *labels, double v); /* counter += v */
void metrics_set(const char *name, const char *labels, double v); /* gauge = v */
/* Histogram with the given upper bounds (seconds or counts), +Inf added.
 * The bounds of the first call for a name are kept. */
void metrics_observe(const char *name, const char *labels, double v, const double *bounds,
                     size_t nbounds);

/* Prometheus text exposition format. Caller frees. NULL on OOM. */
char *metrics_render(void);

/* Gauge sources sampled at render time (e.g. topic depth). */
typedef void (*metrics_collector_fn)(void *ctx);
void metrics_register_collector(metrics_collector_fn fn, void *ctx);

#endif
