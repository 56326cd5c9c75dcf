/* normalize_message — see normalize_message.h. */
#include "model/normalize_message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/normalize_format.h"

static cJSON *find_source(cJSON *root)
{
    static const char *const keys[] = {"logentry", "sentry.interfaces.Message", "message"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (v && !cJSON_IsNull(v)) return v;
    }
    return NULL;
}

static const char *string_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The logentry Relay keeps for src: {formatted, message (when it differs),
 * params (a list or object)}; *out NULL when src holds no message. */
static int build_logentry(cJSON *src, cJSON **out)
{
    const char *formatted = NULL, *tmpl = NULL;
    char *owned = NULL;
    cJSON *params = NULL;
    int rc = 0;
    *out = NULL;
    if (cJSON_IsObject(src)) {
        formatted = string_member(src, "formatted");
        tmpl = string_member(src, "message");
        params = cJSON_GetObjectItemCaseSensitive(src, "params");
        if (!cJSON_IsArray(params) && !cJSON_IsObject(params)) params = NULL;
        if (!formatted && tmpl && params) {
            if ((rc = normalize_format(tmpl, params, &owned)) < 0) return rc;
            formatted = owned;
        }
    } else {
        /* the legacy plain message: a string, or any value as JSON text */
        formatted = owned = normalize_lenient_text(src, &rc);
        if (rc < 0) return rc;
    }
    /* Relay moves the template to `formatted` when nothing else is there,
     * and keeps `message` only when it differs from `formatted`. */
    if (!formatted || (tmpl && strcmp(tmpl, formatted) == 0)) {
        formatted = tmpl;
        tmpl = NULL;
    }
    if (!formatted) {
        free(owned);
        return 0;
    }
    cJSON *le = cJSON_CreateObject();
    rc = -ENOMEM;
    if (!le || !cJSON_AddStringToObject(le, "formatted", formatted) ||
        (tmpl && !cJSON_AddStringToObject(le, "message", tmpl)))
        goto fail;
    if (params) {
        cJSON_DetachItemViaPointer(src, params);
        cJSON_AddItemToObject(le, "params", params);
    }
    free(owned);
    *out = le;
    return 0;
fail:
    free(owned);
    cJSON_Delete(le);
    return rc;
}

int normalize_message(cJSON *root)
{
    cJSON *src = find_source(root);
    if (!src) return 0;
    cJSON *le;
    int rc = build_logentry(src, &le);
    if (rc != 0) return rc;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "sentry.interfaces.Message");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "logentry");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "message");
    if (!le) return 0;
    cJSON *msg = cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(le, "formatted")->valuestring);
    if (!msg) {
        cJSON_Delete(le);
        return -ENOMEM;
    }
    cJSON_AddItemToObject(root, "logentry", le);
    cJSON_AddItemToObject(root, "message", msg);
    return 0;
}
