/* pipeline_metrics — see pipeline_metrics.h. */
#include "pipeline/pipeline_metrics.h"

#include <pthread.h>
#include <stdio.h>

#include "base/metrics.h"
#include "base/topic.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct {
    const char *name;
    struct topic *t;
} g_topics[3] = {{"events", NULL}, {"grouped", NULL}, {"alerts", NULL}};

static void collect(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < sizeof(g_topics) / sizeof(g_topics[0]); i++) {
        if (!g_topics[i].t) continue;
        struct topic_stats s;
        topic_stats(g_topics[i].t, &s);
        char labels[48];
        snprintf(labels, sizeof(labels), "topic=\"%s\"", g_topics[i].name);
        metrics_set("periscope_topic_depth", labels, (double)s.depth);
        metrics_set("periscope_topic_capacity", labels, (double)s.capacity);
        metrics_set("periscope_topic_high_water", labels, (double)s.high_water);
        metrics_set("periscope_topic_rejected_full", labels, (double)s.rejected_full);
    }
    pthread_mutex_unlock(&g_lock);
}

static void register_once(void)
{
    metrics_register_collector(collect, NULL);
}

void pipeline_metrics_attach(struct topic *events, struct topic *grouped, struct topic *alerts)
{
    pthread_once(&g_once, register_once);
    pthread_mutex_lock(&g_lock);
    g_topics[0].t = events;
    g_topics[1].t = grouped;
    g_topics[2].t = alerts;
    pthread_mutex_unlock(&g_lock);
}

void pipeline_metrics_detach(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < sizeof(g_topics) / sizeof(g_topics[0]); i++)
        g_topics[i].t = NULL;
    pthread_mutex_unlock(&g_lock);
}
