/* store/scripts_sample — which stored event a script is tried on: the
 * project's newest one (its payload is read through events_read.h). */
#ifndef PERISCOPE_STORE_SCRIPTS_SAMPLE_H
#define PERISCOPE_STORE_SCRIPTS_SAMPLE_H

#include <stdint.h>
#include "store/db.h"

/* The binary id of the project's most recently stored event. 0, -ENOENT
 * when it has none, or a negative errno. */
int scripts_sample_event_id(struct db *db, int64_t project_id, uint8_t event_id[16]);

#endif
