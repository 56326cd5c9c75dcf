/* normalize_trim — Relay's field size limits (normalize_trim.h). */
#include "model/normalize_trim.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define ELLIPSIS "..."

/* Cuts item's string to limit characters, the last three "...", in its
 * own buffer (the result is never longer). */
static void trim_string(cJSON *item, size_t limit)
{
    if (!cJSON_IsString(item) || !item->valuestring) return;
    unsigned char *s = (unsigned char *)item->valuestring;
    if (strnlen((const char *)s, limit + 1) <= limit) return; /* bytes bound characters */
    size_t chars = 0, cut = 0, i = 0;
    for (; s[i]; i++) {
        if ((s[i] & 0xc0) == 0x80) continue; /* a continuation byte */
        if (chars == limit - 3) cut = i;
        if (++chars > limit) break;
    }
    if (chars <= limit) return;
    memcpy(s + cut, ELLIPSIS, 4); /* with the NUL: cut + 3 < i, inside the string */
}

static void trim_member(cJSON *obj, const char *key, size_t limit)
{
    trim_string(cJSON_GetObjectItemCaseSensitive(obj, key), limit);
}

/* Whether a frame member is one of the paths and symbols: one pass over
 * the frame's members, each name tested once. */
static bool frame_symbol(const char *key)
{
    static const char *const fields[] = {"abs_path",     "filename", "module", "function",
                                         "raw_function", "package",  "symbol", NULL};
    for (const char *const *f = fields; *f; f++)
        if ((*f)[0] == key[0] && strcmp(*f, key) == 0) return true;
    return false;
}

static void trim_frames(cJSON *stacktrace)
{
    cJSON *frame, *member;
    cJSON_ArrayForEach(frame, cJSON_GetObjectItemCaseSensitive(stacktrace, "frames"))
    {
        if (!cJSON_IsObject(frame)) continue;
        cJSON_ArrayForEach(member, frame)
        {
            if (cJSON_IsString(member) && member->string && frame_symbol(member->string))
                trim_string(member, TRIM_SYMBOL_CHARS);
        }
    }
}

/* The list under key: {"values": [...]} or a bare list (threads may come
 * either way; exception is already {"values"} after normalization). */
static cJSON *values_of(cJSON *root, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsArray(v) ? v : cJSON_GetObjectItemCaseSensitive(v, "values");
}

/* Characters (UTF-8 lead bytes) in s, counting no further than limit + 1. */
static size_t chars_upto(const char *s, size_t limit)
{
    size_t chars = 0;
    for (; *s && chars <= limit; s++)
        chars += ((unsigned char)*s & 0xc0) != 0x80;
    return chars;
}

static bool too_long(const char *s, size_t limit)
{
    return s && strnlen(s, limit + 1) > limit && chars_upto(s, limit) > limit;
}

/* Relay drops a tag whose key or value is too long (a cut value would
 * count as another value). Tags are a map or a list of [key, value]. */
static void drop_long_tags(cJSON *tags)
{
    cJSON *tag = tags ? tags->child : NULL;
    while (tag) {
        cJSON *next = tag->next;
        const cJSON *value = cJSON_IsArray(tag) ? cJSON_GetArrayItem(tag, 1) : tag;
        const cJSON *key = cJSON_IsArray(tag) ? cJSON_GetArrayItem(tag, 0) : NULL;
        if ((cJSON_IsString(value) && too_long(value->valuestring, TRIM_TAG_CHARS)) ||
            (cJSON_IsString(key) && too_long(key->valuestring, TRIM_TAG_CHARS)) ||
            (!cJSON_IsArray(tag) && too_long(tag->string, TRIM_TAG_CHARS)))
            cJSON_Delete(cJSON_DetachItemViaPointer(tags, tag));
        tag = next;
    }
}

void normalize_trim(cJSON *event)
{
    if (!cJSON_IsObject(event)) return;
    trim_member(event, "message", TRIM_MESSAGE_CHARS);
    cJSON *logentry = cJSON_GetObjectItemCaseSensitive(event, "logentry");
    trim_member(logentry, "formatted", TRIM_MESSAGE_CHARS);
    trim_member(logentry, "message", TRIM_MESSAGE_CHARS);
    trim_member(event, "culprit", TRIM_CULPRIT_CHARS);
    trim_member(event, "transaction", TRIM_CULPRIT_CHARS);
    drop_long_tags(cJSON_GetObjectItemCaseSensitive(event, "tags"));

    cJSON *item;
    cJSON_ArrayForEach(item, values_of(event, "exception"))
    {
        trim_member(item, "value", TRIM_MESSAGE_CHARS);
        trim_member(item, "type", TRIM_SYMBOL_CHARS);
        trim_member(item, "module", TRIM_SYMBOL_CHARS);
        trim_frames(cJSON_GetObjectItemCaseSensitive(item, "stacktrace"));
    }
    trim_frames(cJSON_GetObjectItemCaseSensitive(event, "stacktrace"));
    cJSON_ArrayForEach(item, values_of(event, "threads"))
        trim_frames(cJSON_GetObjectItemCaseSensitive(item, "stacktrace"));
}
