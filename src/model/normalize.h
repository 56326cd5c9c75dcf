/* normalize — turns one event's cJSON tree into the single shape the rest of
 * the pipeline reads, in place (docs/architecture.md §2 accepts several forms):
 *   exception  → {"values": [...]} from {"values"}, a bare list, or a bare
 *                 {type, value, stacktrace} object
 *   message / logentry → logentry {formatted, message?, params?} as Relay
 *                 keeps it, templates filled from their params
 *                 (normalize_message.h); "message" becomes the formatted
 *                 string
 *   level      → fatal|error|warning|info|debug ("warn" → warning,
 *                 "critical" → fatal, absent or unknown → error)
 *   platform   → default "other"
 *   timestamp  → RFC 3339 UTC string (ms precision); ev->timestamp_ms
 *               (ev->received_at_ms when absent or unreadable)
 *   event_id   → 32 lower-case hex digits from ev->event_id
 * and fills ev->level (static), ev->environment, ev->release (owned by ev);
 * then trims long strings to Relay's limits (normalize_trim.h).
 *
 * Runs on a pipeline worker, which owns the event. Never fails on odd
 * input: what it cannot read it replaces with the default. */
#ifndef PERISCOPE_NORMALIZE_H
#define PERISCOPE_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct grouped_event;

/* Normalizes json in place; reads ev->event_id and ev->received_at_ms,
 * fills the fields above. 0, -EINVAL when json is not an object, -ENOMEM. */
int normalize_event(cJSON *json, struct grouped_event *ev);

/* Parses an RFC 3339 date-time (zone optional: none means UTC; fractions
 * optional; 'T', 't' or ' ' between date and time) into ms since the epoch.
 * 0 or -EINVAL. */
int normalize_parse_rfc3339(const char *s, int64_t *out_ms);

/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25
 * bytes). */
void normalize_format_rfc3339(int64_t ms, char *out, size_t outlen);

#endif
