/* event_message — see event_message.h. */
#include "model/event_message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *string_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The value of the last exception that has one. */
static const char *exception_value(const cJSON *event)
{
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(event, "exception");
    const cJSON *values = cJSON_IsObject(ex) ? cJSON_GetObjectItemCaseSensitive(ex, "values") : ex;
    if (!cJSON_IsArray(values)) return NULL;
    const char *found = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, values)
    {
        const char *v = cJSON_IsObject(it) ? string_of(it, "value") : NULL;
        if (v) found = v;
    }
    return found;
}

int event_message_extract(const cJSON *event, char **out)
{
    *out = NULL;
    const cJSON *logentry = cJSON_GetObjectItemCaseSensitive(event, "logentry");
    const char *text = cJSON_IsObject(logentry) ? string_of(logentry, "formatted") : NULL;
    if (!text) text = string_of(event, "message");
    if (!text) text = exception_value(event);
    if (!text) return 0;
    size_t len = strlen(text);
    if (len > EVENT_MESSAGE_MAX) {
        len = EVENT_MESSAGE_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--; /* not in the middle of a character */
    }
    char *copy = malloc(len + 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = copy;
    return 0;
}
