/* log — one line per message on stderr: a JSON object by default
 * (LOG_FORMAT=json), or "time level message key=value" for humans.
 *
 * Thread-safe; a line is written with one write(2). Never log secrets
 * (admin key, DSN keys, destination URLs with tokens, passwords). */
#ifndef PERISCOPE_LOG_H
#define PERISCOPE_LOG_H

#include <stdbool.h>
#include "config.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(enum log_format format, bool debug);

/* msg is a short fixed text ("event rejected"); fields_fmt (may be NULL) is a
 * printf format of extra key=value pairs:
 *   log_write(LOG_WARN, "script error", "project=%lld hook=%s error=%s", ...);
 * A new field starts at a space followed by `identifier=`; everything up to
 * the next such boundary is the value (so values may hold spaces). In JSON
 * each pair becomes a string member, escaped. */
void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

#endif
