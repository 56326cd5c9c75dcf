/* jsoncheck — event JSON pre-scan, parse and id (jsoncheck.h). */
#include "model/jsoncheck.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "model/event.h"

/* The index of the quote that ends the string whose text starts at p[i],
 * or len. memchr finds each candidate quote; one preceded by an odd run of
 * backslashes (counted back to the string's start) is escaped. */
static size_t string_end(const char *p, size_t i, size_t len)
{
    size_t start = i;
    while (i < len) {
        const char *q = memchr(p + i, '"', len - i);
        if (!q) return len;
        size_t at = (size_t)(q - p), backslashes = 0;
        while (at - backslashes > start && p[at - backslashes - 1] == '\\')
            backslashes++;
        if (backslashes % 2 == 0) return at;
        i = at + 1;
    }
    return len;
}

int jsoncheck_measure(const char *p, size_t len, int max_depth, size_t *tree_bytes)
{
    int depth = 0;
    size_t commas = 0, containers = 0, strings = 0;
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case '"':
            strings++;
            i = string_end(p, i + 1, len);
            break;
        case '[':
        case '{':
            containers++;
            if (++depth > max_depth) return -ELOOP;
            break;
        case ']':
        case '}':
            depth--;
            break;
        case ',':
            commas++;
            break;
        default:
            break;
        }
    }
    /* cJSON makes one node per value: a container of k members holds k-1
     * commas, so the nodes are at most 1 + commas + containers. Every
     * string (keys too) is one more allocation, its bytes within len. */
    if (tree_bytes)
        *tree_bytes = (1 + commas + containers) * JSONCHECK_NODE_BYTES +
                      strings * JSONCHECK_STRING_OVERHEAD_BYTES + len;
    return 0;
}

int jsoncheck_depth(const char *p, size_t len, int max_depth)
{
    return jsoncheck_measure(p, len, max_depth, NULL);
}

int jsoncheck_parse_event(const char *p, size_t len, int max_depth, cJSON **out, const char **why)
{
    *out = NULL;
    if (jsoncheck_depth(p, len, max_depth) != 0) {
        *why = "JSON nested too deeply";
        return -ELOOP;
    }
    return jsoncheck_parse_object(p, len, out, why);
}

int jsoncheck_parse_object(const char *p, size_t len, cJSON **out, const char **why)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(p, len, &end, 0);
    /* Only whitespace may follow the value. */
    while (j && end < p + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (j && end != p + len) {
        cJSON_Delete(j);
        j = NULL;
    }
    if (!j) {
        *why = "event is not valid JSON";
        return -EBADMSG;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        *why = "event is not a JSON object";
        return -EBADMSG;
    }
    *out = j;
    return 0;
}

int jsoncheck_event_id(cJSON *event, const uint8_t *preferred, uint8_t id[16])
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(event, "event_id");
    const char *s = cJSON_IsString(cur) ? cur->valuestring : NULL;
    char hex[33];

    if (preferred)
        memcpy(id, preferred, 16);
    else if (!s || event_id_parse(s, strlen(s), id) != 0)
        event_id_generate(id);
    event_id_hex(id, hex);
    if (s && strcmp(s, hex) == 0) return 0;
    cJSON *val = cJSON_CreateString(hex);
    if (!val) return -ENOMEM;
    if (cur) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(event, "event_id", val)) {
            cJSON_Delete(val);
            return -ENOMEM;
        }
    } else if (!cJSON_AddItemToObject(event, "event_id", val)) {
        cJSON_Delete(val);
        return -ENOMEM;
    }
    return 0;
}
