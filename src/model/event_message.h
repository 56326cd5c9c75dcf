/* event_message — the text of a normalized event that issue search reads
 * besides its title and culprit: the log message (logentry.formatted, as
 * normalize_message leaves it), else the value of the main (last)
 * exception, whole — the title carries only its first line. Capped at
 * EVENT_MESSAGE_MAX bytes, cut on a UTF-8 boundary. Pure; any thread (the
 * pipeline worker calls it before it frees the tree). */
#ifndef PERISCOPE_EVENT_MESSAGE_H
#define PERISCOPE_EVENT_MESSAGE_H

#include <cjson/cJSON.h>

#define EVENT_MESSAGE_MAX 1024

/* 0 with *out (caller frees; NULL when the event has no such text), or
 * -ENOMEM. */
int event_message_extract(const cJSON *event, char **out);

#endif
