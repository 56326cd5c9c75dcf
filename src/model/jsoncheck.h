/* jsoncheck — the checks every event JSON passes before it is published:
 * a linear, non-recursive pre-scan for nesting depth (so no parser recurses
 * on hostile input), the parse itself, "must be an object", and the event
 * id rule (envelope header id, else the event's own valid id, else a new
 * random one; the chosen id is written back into the object).
 *
 * Pure functions, any thread. */
#ifndef PERISCOPE_JSONCHECK_H
#define PERISCOPE_JSONCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* What one parsed node and one string's allocation cost at most, with
 * the allocator's own overhead (sizeof(cJSON) is 64 on 64-bit). */
#define JSONCHECK_NODE_BYTES 96
#define JSONCHECK_STRING_OVERHEAD_BYTES 32

/* 0 when no array/object nests deeper than max_depth, else -ELOOP. Strings
 * (with escapes) are skipped; the text is not otherwise validated. */
int jsoncheck_depth(const char *p, size_t len, int max_depth);

/* The depth check, and (tree_bytes not NULL) an upper bound of the bytes
 * cJSON allocates to parse the text, counted from its structure before any
 * allocation: ingest reserves it against the memory budget (membudget.h)
 * before parsing. */
int jsoncheck_measure(const char *p, size_t len, int max_depth, size_t *tree_bytes);

/* Depth check, then cJSON_ParseWithLength, then "is an object". On success
 * *out is the parsed object (caller owns, cJSON_Delete). Errors: -ELOOP too
 * deep, -EBADMSG not JSON or not an object (*why: static text), -ENOMEM. */
int jsoncheck_parse_event(const char *p, size_t len, int max_depth, cJSON **out, const char **why);

/* jsoncheck_parse_event without the depth check, for text that passed
 * jsoncheck_measure already (cJSON recurses: never call it on text whose
 * depth was not checked). */
int jsoncheck_parse_object(const char *p, size_t len, cJSON **out, const char **why);

/* Picks the event's id: preferred (the envelope header's, may be NULL),
 * else the object's "event_id" when it is 32 hex digits (dashes allowed),
 * else a generated one. Writes it to id and as 32 lowercase hex into the
 * object's "event_id". 0 or -ENOMEM. */
int jsoncheck_event_id(cJSON *event, const uint8_t *preferred, uint8_t id[16]);

#endif
