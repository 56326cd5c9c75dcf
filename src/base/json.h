/* base/json — the few helpers the C code needs over cJSON, its one JSON
 * library (docs/architecture.md §1, "JSON"): typed reads that answer NULL
 * or a default for a missing or mistyped member, and an integer test that
 * matches what JSON parsers call an integer (an integral number within
 * ±2^53, where a double is still exact).
 *
 * Header only; pure; any thread. */
#ifndef PERISCOPE_BASE_JSON_H
#define PERISCOPE_BASE_JSON_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */

/* Parses buf[0..len) as exactly one JSON value (whitespace around it
 * allowed, nothing else): the tree (caller frees with cJSON_Delete), or
 * NULL for anything else or on OOM. */
static inline cJSON *json_parse(const char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *v = len ? cJSON_ParseWithLengthOpts(buf, len, &end, 0) : NULL;
    for (const char *stop = buf + len; v && end && end < stop; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(v);
            return NULL;
        }
    }
    return v;
}

/* obj's member key (exact case), or NULL (obj NULL or not an object). */
static inline cJSON *json_get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* v's text when it is a string, else NULL. */
static inline const char *json_str(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* True for a number with an integral value within ±2^53. */
static inline bool json_is_int(const cJSON *v)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) <= JSON_INT_MAX &&
           v->valuedouble == trunc(v->valuedouble);
}

/* v's value when json_is_int, else def. */
static inline int64_t json_int(const cJSON *v, int64_t def)
{
    return json_is_int(v) ? (int64_t)v->valuedouble : def;
}

#endif
