/* pipeline_metrics — topic depth gauges for /metrics, sampled at render
 * time. The collector is registered once for the process (metrics has no
 * unregister); attach/detach point it at the running pipeline's topics.
 * Thread-safe. */
#ifndef PERISCOPE_PIPELINE_METRICS_H
#define PERISCOPE_PIPELINE_METRICS_H

struct topic;

/* Topics are borrowed until pipeline_metrics_detach; any may be NULL. */
void pipeline_metrics_attach(struct topic *events, struct topic *grouped, struct topic *alerts);
void pipeline_metrics_detach(void);

#endif
