/* utf8 — checking and repairing UTF-8 that came from outside (event JSON
 * at ingest, text columns read back from the database).
 *
 * Valid means RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF. Repair replaces each maximal invalid subsequence with U+FFFD
 * (EF BF BD), the Unicode "substitution of maximal subparts" practice that
 * Rust's from_utf8_lossy (and so Relay) follows; valid bytes are kept.
 *
 * Pure functions, any thread. */
#ifndef PERISCOPE_UTF8_H
#define PERISCOPE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include "base/json.h"

/* True when s[0..len) is valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

/* 0 when s[0..len) is valid (nothing allocated, *out NULL); 1 with *out the
 * repaired copy (NUL-terminated, caller frees) and *out_len its length; or
 * -ENOMEM. The copy is at most 3 × len bytes. */
int utf8_repair(const char *s, size_t len, char **out, size_t *out_len);

/* A JSON string of the NUL-terminated s, repaired when it is not valid
 * UTF-8 (an answer is valid UTF-8); JSON null for NULL. NULL only when
 * out of memory. */
cJSON *utf8_json_string(const char *s);

#endif
