/* log — one line per message on stderr: a JSON object by default
 * (LOG_FORMAT=json), or "time level message key=value ..." for humans
 * (LOG_FORMAT=text).
 *
 * Thread-safe; a line is written with one write(2), so lines never
 * interleave. Never log secrets (admin key, DSN keys, destination URLs with
 * tokens, passwords).
 *
 * Values are data, never syntax: the field names and where each field ends
 * come from the format string (a literal in the code), never from the text a
 * value expands to. A value from an event or a script that reads
 * `x msg=FORGED level=fatal` stays one value: in JSON it is one escaped
 * string member, in text it is quoted. Control characters are escaped in
 * both formats (a value never starts a new line), and bytes that are not
 * UTF-8 become U+FFFD (JSON) or \xNN (text). A line longer than
 * LOG_LINE_MAX is cut inside a value, which then ends with "…"; the line
 * stays well-formed. */
#ifndef PERISCOPE_LOG_H
#define PERISCOPE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "base/config.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_LINE_MAX 8192 /* bytes of one line, newline included */

/* Call once at start-up, before other threads exist. */
void log_init(enum log_format format, bool debug);

/* True when lines of this level are written: lets a caller skip building
 * the arguments of a debug line on a hot path. */
bool log_enabled(enum log_level level);

/* msg is a short fixed text ("event refused"). fields_fmt (may be NULL) is
 * a printf format of space-separated `key=value` fields:
 *   log_write(LOG_WARN, "script error", "project=%lld hook=%s error=%s", ...);
 * A field starts at the beginning of the format or after a space, with a
 * name of letters, digits, `_` or `.` and an `=`; its value is what the rest
 * of the format up to the next field produces (several conversions and
 * literal text may make one value). Text before the first name is kept as
 * the field "detail". Supported conversions: d i u o x X c s p f F e E g G
 * a A and %%, with the usual flags, width, precision (also `*`) and length
 * modifiers (hh h l ll j z t L); %s of NULL prints "(null)". */
void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

/* Rate limit for lines a client can cause at will (refused requests): at
 * most LOG_RATE_PER_SECOND lines per key per second. Returns true when the
 * caller may log now; *suppressed is then the number of lines this key
 * refused since its last admitted one, for the line to report. key must be
 * a static string (its pointer is kept); at most LOG_RATE_KEYS distinct
 * keys are told apart, later ones share one budget. Any thread. */
#define LOG_RATE_PER_SECOND 10
#define LOG_RATE_KEYS 64
bool log_rate_admit(const char *key, uint64_t *suppressed);
/* The same with the time given (monotonic milliseconds), for tests. */
bool log_rate_admit_at(const char *key, int64_t now_ms, uint64_t *suppressed);

#endif
