/* base/json — the helpers the C code needs over cJSON, its one JSON
 * library (docs/architecture.md §1, "JSON"): typed reads that answer NULL
 * or a default for a missing or mistyped member, an integer test that
 * matches what JSON parsers call an integer (an integral number within
 * ±2^53, where a double is still exact), setters that take ownership,
 * json_build (a tree from a format string), and json_print (compact text,
 * integers without ".0", optional sorted keys and indentation).
 *
 * Ownership: json_set, json_push and json_build's "o" take the value they
 * are given (and free it when they fail); a cJSON item belongs to at most
 * one tree, so a value that stays in its tree goes in as json_dup(v).
 *
 * Pure; any thread (cJSON's global error pointer is never read). */
#ifndef PERISCOPE_BASE_JSON_H
#define PERISCOPE_BASE_JSON_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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

/* v's value when json_is_int, else 0. */
static inline int64_t json_i64(const cJSON *v)
{
    return json_int(v, 0);
}

/* The text's length when v is a string, else 0. */
static inline size_t json_strlen(const cJSON *v)
{
    return cJSON_IsString(v) ? strlen(v->valuestring) : 0;
}

/* The number of elements of an array or members of an object, else 0. */
static inline size_t json_size(const cJSON *v)
{
    size_t n = 0;
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
    return n;
}

/* Element i of the array a, or NULL (a not an array, i past the end). */
static inline cJSON *json_at(const cJSON *a, size_t i)
{
    cJSON *c = cJSON_IsArray(a) ? a->child : NULL;
    while (c && i--)
        c = c->next;
    return c;
}

/* A number holding v (exact within ±2^53). NULL when out of memory. */
static inline cJSON *json_new_int(int64_t v)
{
    return cJSON_CreateNumber((double)v);
}

/* A string of s[0..n) (a NUL inside ends it), repaired when it is not
 * valid UTF-8 (each invalid sequence becomes U+FFFD, base/utf8.h): no
 * string made here can put invalid UTF-8 into an answer. NULL for s NULL
 * or OOM. */
cJSON *json_new_strn(const char *s, size_t n);

/* json_new_strn of the NUL-terminated s (NULL for s NULL or OOM). */
static inline cJSON *json_new_str(const char *s)
{
    return s ? json_new_strn(s, strlen(s)) : NULL;
}

/* A deep copy of v, or NULL (v NULL or OOM). */
static inline cJSON *json_dup(const cJSON *v)
{
    return v ? cJSON_Duplicate(v, 1) : NULL;
}

/* Sets obj[key] to v, replacing a member of that name in place (its
 * position kept) or appending one. Takes v; -1 (v freed) when v is NULL,
 * obj is not an object or memory runs out. */
int json_set(cJSON *obj, const char *key, cJSON *v);

/* Appends v to the array arr. Takes v; -1 (v freed) when v is NULL, arr is
 * not an array. */
int json_push(cJSON *arr, cJSON *v);

/* json_push of a number (exact up to ±2^53) or of a copy of s: 0 or -1. */
static inline int json_push_int(cJSON *arr, int64_t v)
{
    return json_push(arr, cJSON_CreateNumber((double)v));
}
static inline int json_push_str(cJSON *arr, const char *s)
{
    return json_push(arr, cJSON_CreateString(s));
}

#define JSON_EACH_CAT_(a, b) a##b
#define JSON_EACH_IT_(line) JSON_EACH_CAT_(json_each_it_, line)

/* Walks an object's members: key the member's name, v its value (the
 * body may reassign v or continue; it must not remove the member). */
#define json_object_each(obj, key, v)                                                              \
    for (cJSON * JSON_EACH_IT_(__LINE__) = cJSON_IsObject(obj) ? (obj)->child : NULL;              \
         JSON_EACH_IT_(__LINE__) &&                                                                \
         (((key) = JSON_EACH_IT_(__LINE__)->string), ((v) = JSON_EACH_IT_(__LINE__)), 1);          \
         JSON_EACH_IT_(__LINE__) = JSON_EACH_IT_(__LINE__)->next)

/* Walks an array's elements: i the index (size_t), v the element. */
#define json_array_each(arr, i, v)                                                                 \
    for (cJSON * JSON_EACH_IT_(__LINE__) = ((i) = 0, cJSON_IsArray(arr) ? (arr)->child : NULL);    \
         JSON_EACH_IT_(__LINE__) && (((v) = JSON_EACH_IT_(__LINE__)), 1);                          \
         JSON_EACH_IT_(__LINE__) = JSON_EACH_IT_(__LINE__)->next, (i)++)

/* json_parse of the NUL-terminated text; NULL for text NULL. */
static inline cJSON *json_parse_text(const char *text)
{
    return text ? json_parse(text, strlen(text)) : NULL;
}

/* Like json_parse, and on failure (NULL) says why in why[0..whylen): the
 * problem, its line and column (1-based) in buf; a member name that occurs
 * twice in one object is refused too. */
cJSON *json_parse_checked(const char *buf, size_t len, char *why, size_t whylen);

/* A tree from a format, in the json_pack notation (the subset the code uses):
 * "{" "}" "[" "]" nest; in an object a key is "s" (const char *); values
 * are "s" (const char *, made by json_new_str: repaired UTF-8), "s?" (NULL gives null), "s%" (const
 * char *, size_t length), "i" (int), "I" (int64_t), "b" (int, a boolean), "f" (double), "n" (null,
 * no argument), "o" (cJSON *, taken), "o?" (NULL gives null), "o*" (NULL leaves the member out),
 * "O" (cJSON *, copied). Spaces, ":" and "," are separators. NULL on a NULL where one is not
 * allowed, a bad format or OOM; the "o" values are freed then too. */
cJSON *json_build(const char *fmt, ...);

enum {
    JSON_PRINT_SORT = 1 << 0,   /* object members by name (bytewise) */
    JSON_PRINT_SPACED = 1 << 1, /* ", " and ": " between items */
};
/* Indentation by n spaces per level (newlines between items). */
#define JSON_PRINT_INDENT(n) (((n)&0x1f) << 8)

/* v as JSON text (caller frees), or NULL for v NULL or OOM: compact by
 * default; strings escaped as ", \, \b \f \n \r \t and \u00XX for the
 * other control bytes, everything else as is (valid UTF-8 unchanged; a string
 * that is not valid UTF-8, made by cJSON_CreateString, printed repaired); an
 * integral number within ±2^53 as an integer, another finite number with
 * 17 significant digits (".0" added when it would read as an integer), a
 * non-finite one as null. */
char *json_print(const cJSON *v, int flags);

#endif
