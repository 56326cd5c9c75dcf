/* event — allocation and id helpers for struct ingest_event (see event.h). */
#include "model/event.h"

#include <errno.h>
#include <stdlib.h>
#include <openssl/rand.h>
#include "base/membudget.h"

struct ingest_event *event_new(void)
{
    return calloc(1, sizeof(struct ingest_event));
}

void event_free(struct ingest_event *ev)
{
    if (!ev) return;
    cJSON_Delete(ev->json);
    free(ev->raw);
    free(ev->title);
    free(ev->culprit);
    free(ev->message);
    free(ev->environment);
    free(ev->release);
    free(ev->payload);
    free(ev->tags);
    event_release_budget(ev);
    free(ev);
}

void event_release_budget(struct ingest_event *ev)
{
    if (ev->budget && ev->budget_bytes) membudget_give(ev->budget, ev->budget_bytes);
    ev->budget_bytes = 0;
}

const char *event_grouping_name(enum event_grouping g)
{
    return g == EVENT_GROUPED_BY_SCRIPT     ? "script"
           : g == EVENT_GROUPED_BY_FALLBACK ? "fallback"
                                            : "default";
}

void event_id_hex(const uint8_t id[16], char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 0xf];
    }
    out[32] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int event_id_parse(const char *s, size_t len, uint8_t out[16])
{
    uint8_t id[16];
    size_t digits = 0;

    /* UUID form has exactly 4 dashes; allow dashes anywhere but bound them. */
    if (!s || len > 36) return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-') continue;
        int v = hex_value(s[i]);
        if (v < 0 || digits >= 32) return -EINVAL;
        if (digits % 2 == 0)
            id[digits / 2] = (uint8_t)(v << 4);
        else
            id[digits / 2] |= (uint8_t)v;
        digits++;
    }
    if (digits != 32) return -EINVAL;
    for (int i = 0; i < 16; i++)
        out[i] = id[i];
    return 0;
}

void event_id_generate(uint8_t out[16])
{
    if (RAND_bytes(out, 16) != 1) {
        /* RAND_bytes fails only when the CSPRNG cannot seed; an id still
         * must be unique-enough, so fall back to random(). */
        for (int i = 0; i < 16; i++)
            out[i] = (uint8_t)random();
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* version 4 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}
