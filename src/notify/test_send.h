/* notify/test_send — "send a test" for the admin API: formats a made-up
 * alert the way the notifier does (lua/script_format.h: the project's
 * format() hook, else the default formatter of the destination's type)
 * and sends it now, on the calling thread (blocking, bounded by the
 * request timeouts), with the same SSRF guard as the notifier. Uses its
 * own short-lived vm (the project's script, or one without hooks), so any
 * thread may call it. Nothing is written to the outbox. */
#ifndef PERISCOPE_NOTIFY_TEST_SEND_H
#define PERISCOPE_NOTIFY_TEST_SEND_H

#include <stdint.h>
#include "base/json.h"

struct config;
struct script_registry;

/* cfg: lua_dir, public_url and the request timeouts; scripts (may be NULL:
 * the default formats) for the project's format() hook; both borrowed.
 * dest: a destinations_get() row (borrowed). *result (caller owns):
 * {"ok": bool, "status_code": int | null, "duration_ms": int,
 *  "error": string | null}. Returns 0, or negative when not even an
 * attempt could be made (the formatters failed to load: logged). */
int notify_send_test(const struct config *cfg, struct script_registry *scripts, const cJSON *dest,
                     const char *project_name, cJSON **result);

#endif
