/* grouping/parameterize — Sentry's message parameterization, in C.
 *
 * Replaces the variable parts of a message (exception value or log message)
 * with placeholders, as Sentry's grouping does before hashing a message:
 * <email>, <url>, <hostname>, <ip>, <uuid>, <sha1>, <md5>, <date>,
 * <duration>, <hex>, <float>, <int>, <quoted_str> and <bool> (the last two
 * only as the value of a key=value pair). Sentry tries one alternation of
 * regular expressions, in that order, at every position from the left and
 * takes the first alternative that matches; this is a hand-written scanner
 * with the same leftmost, first-alternative-wins semantics (see
 * parameterize.c for the rules and the few places where it approximates
 * Python's Unicode character classes).
 *
 * Pure function, any thread, no allocation: the caller owns both buffers. */
#ifndef PERISCOPE_GROUPING_PARAMETERIZE_H
#define PERISCOPE_GROUPING_PARAMETERIZE_H

#include <stddef.h>

/* The output never exceeds this many bytes (placeholders are at most five
 * times longer than the text they replace), plus one for the NUL. */
#define PARAMETERIZE_MAX_OUT(len) (5 * (len) + 1)

/* Parameterizes in[0..len) into out (NUL-terminated), *out_len = bytes
 * written without the NUL. Returns 0, or -ENOBUFS when cap is smaller than
 * PARAMETERIZE_MAX_OUT(len) would guarantee and the result did not fit. */
int parameterize(const char *in, size_t len, char *out, size_t cap, size_t *out_len);

#endif
