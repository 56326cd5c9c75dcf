/* metrics_catalog — the collectors that sample the database at each
 * scrape. (The HELP text and type of every family are one table in
 * base/metrics_families.c.) The application calls
 * metrics_catalog_register_store once the store is open. */
#ifndef PERISCOPE_METRICS_CATALOG_H
#define PERISCOPE_METRICS_CATALOG_H

struct store;

/* Registers the collector of periscope_deliveries{status=…} (a count query
 * on a pooled connection at each scrape). st outlives the process's
 * metrics rendering (it is closed after the HTTP daemon stops). */
void metrics_catalog_register_store(struct store *st);

#endif
