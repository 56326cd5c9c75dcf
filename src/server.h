/* server — the process-wide context every subsystem reaches through.
 *
 * main() builds it in order (config, log, store, topics, scripts, pipeline,
 * notifier, HTTP) and tears it down in reverse. Fields are set once before
 * the HTTP daemon starts and read-only afterwards, except `stopping`. */
#ifndef PERISCOPE_SERVER_H
#define PERISCOPE_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include "config.h"

struct store;
struct topic;
struct pipeline;
struct notifier;
struct script_registry;
struct ingest;
struct MHD_Daemon;

struct server {
    struct config *cfg;
    struct store *store;
    struct topic *events;                /* struct ingest_event*: ingest → workers */
    struct topic *alerts;                /* struct alert_msg*: writer → notifier */
    struct pipeline *pipeline;
    struct notifier *notifier;
    struct script_registry *scripts;     /* per-project active scripts and generations */
    struct ingest *ingest;               /* key cache, quotas */
    struct MHD_Daemon *httpd;
    atomic_bool stopping;
};

#endif
