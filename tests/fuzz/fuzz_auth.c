/* libFuzzer target: the key parsers (X-Sentry-Auth, Authorization, DSN,
 * query) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ingest/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char key[AUTH_KEY_MAX + 1];
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (auth_key_from_header(s, key) == 0 && strlen(key) > AUTH_KEY_MAX) abort();
    if (auth_key_from_authorization(s, key) == 0 && strlen(key) > AUTH_KEY_MAX) abort();
    if (auth_key_from_dsn(s, key) == 0 && strlen(key) > AUTH_KEY_MAX) abort();
    if (auth_key_copy(s, key) == 0) (void)auth_key_well_formed(key);
    free(s);
    return 0;
}
