/* libFuzzer target: personal data scrubbing (scrub.h) on whatever arrives,
 * as an event and as one string, with the default rules and with a
 * project's extra and safe fields. Checks what must always hold: scrubbing
 * never fails but for memory, a second scrub changes nothing, and valid
 * UTF-8 stays valid. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/jsoncheck.h"
#include "model/scrub.h"

/* Whether s is UTF-8 (overlongs, surrogates and > U+10FFFF refused). */
static bool utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (len == 0 || c > 0xf4) return false;
        for (size_t k = 1; k < len; k++)
            if ((s[k] & 0xc0) != 0x80) return false;
        if (len > 1 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
                        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
            return false;
        s += len;
    }
    return true;
}

static const struct scrub_rules *custom_rules(void)
{
    static struct scrub_rules *r;
    if (!r) {
        struct scrub_settings st;
        scrub_settings_default(&st);
        st.scrub_ip_addresses = true;
        strcpy(st.sensitive[st.n_sensitive++], "ssn");
        strcpy(st.sensitive[st.n_sensitive++], "x");
        strcpy(st.safe[st.n_safe++], "author");
        strcpy(st.safe[st.n_safe++], "session_count");
        if (scrub_rules_new(&st, &r) != 0) abort();
    }
    return r;
}

/* Scrubs ev twice with rules: the second time must change nothing, and a
 * tree that printed as UTF-8 must still print as UTF-8. */
static void check(const struct scrub_rules *rules, cJSON *ev)
{
    char *before = cJSON_PrintUnformatted(ev);
    bool was_utf8 = before && utf8_ok((const unsigned char *)before);
    int n = scrub_event(rules, ev);
    if (n == -ENOMEM) goto done;
    if (n < 0) abort();
    char *once = cJSON_PrintUnformatted(ev);
    if (scrub_event(rules, ev) != 0) abort();
    char *twice = cJSON_PrintUnformatted(ev);
    if (once && twice && strcmp(once, twice) != 0) abort();
    if (once && was_utf8 && !utf8_ok((const unsigned char *)once)) abort();
    free(once);
    free(twice);
done:
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const struct scrub_rules *rules[] = {NULL, custom_rules()};
    for (size_t r = 0; r < 2; r++) {
        cJSON *ev;
        const char *why;
        if (jsoncheck_parse_event(buf, size, 64, &ev, &why) == 0) {
            check(rules[r], ev);
            cJSON_Delete(ev);
        }
        /* The bytes (up to a NUL) as a message, an extra and a pair. */
        ev = cJSON_CreateObject();
        cJSON *extra = cJSON_AddObjectToObject(ev, "extra");
        cJSON_AddStringToObject(ev, "message", buf);
        cJSON_AddStringToObject(extra, buf, "v");
        cJSON *pair = cJSON_AddArrayToObject(extra, "pair");
        cJSON_AddItemToArray(pair, cJSON_CreateString(buf));
        cJSON_AddItemToArray(pair, cJSON_CreateString("value"));
        check(rules[r], ev);
        cJSON_Delete(ev);
    }
    free(buf);
    return 0;
}
