/* notify/format_hook — the format() check (the destination types are
 * notify/channel.c's table). */
#include "notify/format_hook.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "lua/script_format.h"
#include "notify/alert_data.h"
#include "notify/channel.h"

int notify_format_check(struct script *s, const struct alert_data *alert, const char **type,
                        struct vm_error *hook_err)
{
    memset(hook_err, 0, sizeof *hook_err);
    if (!script_has_hook(s, SCRIPT_HOOK_FORMAT)) return 0;
    const char *t;
    for (size_t i = 0; (t = channel_type_name(i)) != NULL; i++) {
        struct alert_destination dest = {.id = 0, .type = t, .name = t};
        struct script_message m;
        char err[256];
        script_format_alert(s, alert, &dest, &m, hook_err, err, sizeof err);
        script_message_clear(&m);
        if (hook_err->kind != VM_ERROR_NONE) {
            *type = t;
            return 1;
        }
    }
    return 0;
}

int notify_format_check_script(struct script *s, const char *public_url, struct vm_error *err)
{
    if (!script_has_hook(s, SCRIPT_HOOK_FORMAT)) return 0;
    struct alert_data alert;
    notify_sample_alert(0, "sample", public_url, clock_wall_ms(), &alert);
    const char *type = NULL;
    struct vm_error hook_err;
    if (notify_format_check(s, &alert, &type, &hook_err) == 0) return 0;
    char text[VM_ERROR_MESSAGE_MAX];
    snprintf(text, sizeof text, "%.200s (destination type %s)", hook_err.message, type);
    *err = hook_err;
    snprintf(err->message, sizeof err->message, "%s", text);
    return 1;
}
