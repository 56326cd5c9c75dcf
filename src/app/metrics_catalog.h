/* metrics_catalog — the HELP text and type of every metric the server
 * exports, in one place, so /metrics reads the same whichever module
 * incremented first; and the collectors that sample the database.
 *
 * main() calls metrics_catalog_register once at start-up (before the HTTP
 * daemon), and metrics_catalog_register_store once the store is open. */
#ifndef PERISCOPE_METRICS_CATALOG_H
#define PERISCOPE_METRICS_CATALOG_H

struct store;

void metrics_catalog_register(void);

/* Registers the collector of periscope_deliveries{status=…} (a count query
 * on a pooled connection at each scrape). st outlives the process's
 * metrics rendering (it is closed after the HTTP daemon stops). */
void metrics_catalog_register_store(struct store *st);

#endif
