/* event — allocation and id helpers for the event types (see event.h). */
#include "model/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "base/membudget.h"

struct raw_event *raw_event_new(void)
{
    return calloc(1, sizeof(struct raw_event));
}

struct grouped_event *grouped_event_new(void)
{
    return calloc(1, sizeof(struct grouped_event));
}

void raw_event_release(struct raw_event *ev)
{
    cJSON_Delete(ev->json);
    ev->json = NULL;
    free(ev->raw);
    ev->raw = NULL;
    if (ev->budget && ev->budget_bytes) membudget_give(ev->budget, ev->budget_bytes);
    ev->budget_bytes = 0;
}

void raw_event_free(struct raw_event *ev)
{
    if (!ev) return;
    raw_event_release(ev);
    free(ev);
}

size_t raw_event_queued_bytes(const void *ev)
{
    return ((const struct raw_event *)ev)->raw_len;
}

void grouped_event_free(struct grouped_event *ev)
{
    if (!ev) return;
    free(ev->title);
    free(ev->culprit);
    free(ev->message);
    free(ev->environment);
    free(ev->release);
    free(ev->payload);
    free(ev->tags);
    free(ev);
}

void grouped_event_from_raw(struct grouped_event *ev, struct raw_event *raw)
{
    ev->project_id = raw->project_id;
    memcpy(ev->event_id, raw->event_id, sizeof ev->event_id);
    ev->received_at_ms = raw->received_at_ms;
    ev->ack = raw->ack;
    raw->ack = NULL;
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
