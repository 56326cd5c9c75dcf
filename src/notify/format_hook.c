/* notify/format_hook — project hook first, default formatter as fallback. */
#include "notify/format_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <lauxlib.h>

#include "notify/channel.h"
#include "base/clock.h"
#include "base/log.h"
#include "lua/script_format.h"
#include "notify/alert_data.h"

/* A jansson value as a cJSON tree (the script's tables are built from
 * cJSON). NULL on OOM. */
static cJSON *to_cjson(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    cJSON *c = s ? cJSON_Parse(s) : NULL;
    free(s);
    return c;
}

/* Runs the hook; 1 with its body in *value, 0 for "use the default", -1
 * with hook_err filled. */
static int run_hook(struct script *s, const json_t *alert, const json_t *dest, char **value,
                    size_t *len, bool *is_json, struct vm_error *hook_err)
{
    cJSON *c_alert = to_cjson(alert), *c_dest = to_cjson(dest);
    int rc;
    if (!c_alert || !c_dest) {
        vm_error_set(hook_err, VM_ERROR_MEMORY, "out of memory building the format() arguments");
        rc = -1;
    } else {
        rc = script_format(s, c_alert, c_dest, value, len, is_json, hook_err);
    }
    cJSON_Delete(c_alert);
    cJSON_Delete(c_dest);
    return rc;
}

int notify_format_alert(struct notify_format *f, struct script *s, const json_t *alert,
                        const json_t *dest, struct notify_message *out, struct vm_error *hook_err,
                        char *err, size_t errlen)
{
    memset(hook_err, 0, sizeof *hook_err);
    memset(out, 0, sizeof *out);
    if (s && s->format_ref != LUA_NOREF) {
        char *value = NULL;
        size_t len = 0;
        bool is_json = false;
        int hook = run_hook(s, alert, dest, &value, &len, &is_json, hook_err);
        if (hook == 2) return 1; /* format() returned false */
        if (hook == 1) {
            char why[VM_ERROR_MESSAGE_MAX - 32], text[VM_ERROR_MESSAGE_MAX];
            int rc =
                notify_format_override(f, alert, dest, value, len, is_json, out, why, sizeof why);
            free(value);
            if (rc == 0) return 0;
            snprintf(text, sizeof text, "format() result not usable: %s", why);
            vm_error_set(hook_err, VM_ERROR_TYPE, text);
        }
    }
    return notify_format_render(f, alert, dest, out, err, errlen);
}

int notify_format_check(struct notify_format *f, struct script *s, const json_t *alert,
                        const char **type, struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    if (!s || s->format_ref == LUA_NOREF) return 0;
    const char *t;
    for (size_t i = 0; (t = channel_type_name(i)) != NULL; i++) {
        json_t *dest = json_pack("{s:i, s:s, s:s}", "id", 0, "type", t, "name", t);
        struct notify_message m;
        char err[256];
        if (!dest) {
            vm_error_set(hook_err, VM_ERROR_MEMORY, "out of memory");
        } else {
            notify_format_alert(f, s, alert, dest, &m, hook_err, err, sizeof err);
            notify_message_clear(&m);
            json_decref(dest);
        }
        if (hook_err->kind != VM_ERROR_NONE) {
            *type = t;
            return 1;
        }
    }
    return 0;
}

int notify_format_check_script(struct script *s, const char *lua_dir, const char *public_url,
                               struct vm_error *err)
{
    if (s->format_ref == LUA_NOREF) return 0;
    char why[256];
    struct notify_format *f = NULL;
    if (notify_format_new(lua_dir, &f, why, sizeof why) != 0) {
        log_warn("format() not validated: the default formatters did not load", "error=%s", why);
        return 0;
    }
    json_t *alert = notify_sample_alert(0, "sample", public_url, clock_wall_ms());
    const char *type = NULL;
    struct vm_error hook_err;
    int failed = 0;
    if (!alert) {
        vm_error_set(err, VM_ERROR_MEMORY, "out of memory building the sample alert");
        failed = 1;
    } else if (notify_format_check(f, s, alert, &type, &hook_err) != 0) {
        char text[VM_ERROR_MESSAGE_MAX];
        snprintf(text, sizeof text, "%.200s (destination type %s)", hook_err.message, type);
        *err = hook_err;
        snprintf(err->message, sizeof err->message, "%s", text);
        failed = 1;
    }
    json_decref(alert);
    notify_format_free(f);
    return failed;
}
