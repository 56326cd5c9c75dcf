/* grouping/hash — the grouping hash, as Sentry's hash_from_values computes
 * it: MD5 over the UTF-8 bytes of the contributing values fed in order, as
 * 32 lower-case hex digits. No separator between values, so ["ab"] and
 * ["a", "b"] hash alike, exactly as in Sentry.
 *
 * Pure function, any thread. Never allocates on the heap. */
#ifndef PERISCOPE_GROUPING_HASH_H
#define PERISCOPE_GROUPING_HASH_H

#include <stddef.h>

/* values[i] holds lens[i] bytes (need not be NUL-terminated); n may be 0
 * (the fallback hash, d41d8cd98f00b204e9800998ecf8427e). out receives 32 hex
 * digits and a NUL. Returns 0, or -EIO if the digest could not be computed. */
int grouping_hash(const char *const *values, const size_t *lens, size_t n, char out[33]);

#endif
