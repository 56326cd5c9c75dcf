/* libFuzzer target: the envelope parser and the per-event JSON checks on
 * whatever bytes arrive. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ingest/envelope.h"
#include "model/jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy so that any read past the end is caught */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    struct envelope env;
    const char *why;
    if (envelope_parse(buf, size, &env, &why) == 0) {
        for (size_t i = 0; i < env.nitems; i++) {
            cJSON *j;
            if (env.items[i].type != ENVELOPE_ITEM_EVENT) continue;
            if (jsoncheck_parse_event(env.items[i].payload, env.items[i].payload_len, 64, &j,
                                      &why) == 0) {
                uint8_t id[16];
                jsoncheck_event_id(j, env.has_event_id ? env.event_id : NULL, id);
                cJSON_Delete(j);
            }
        }
        envelope_free(&env);
    }
    /* the same bytes as a /store/ body */
    cJSON *j;
    if (jsoncheck_parse_event(buf, size, 64, &j, &why) == 0) cJSON_Delete(j);
    free(buf);
    return 0;
}
