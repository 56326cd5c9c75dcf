/* normalize_trim — the field size limits Relay applies before grouping,
 * so that nothing after normalization (the default grouping's patterns,
 * parameterize, project scripts) ever reads a longer string of these:
 *
 *   message, logentry.formatted, logentry.message,
 *   exception values                                       8192 characters
 *   exception type and module; frame abs_path, filename,
 *   module, function, raw_function, package, symbol        256
 *   culprit, transaction                                   200
 *
 * and drops, as Relay does, every tag (a map, or a list of [key, value]
 * pairs) whose key or value is longer than 200 characters.
 *
 * Frames are those of exception stack traces, the event's stack trace and
 * threads' stack traces. A longer string keeps its first (limit - 3)
 * characters followed by "..." (characters are counted as UTF-8 lead
 * bytes). The limits bound the work on each string, not the event: the
 * bytes as received are stored untouched (readers normalize, and so trim,
 * again).
 *
 * In place, on the thread that owns the tree; never fails. */
#ifndef PERISCOPE_NORMALIZE_TRIM_H
#define PERISCOPE_NORMALIZE_TRIM_H

#include <cjson/cJSON.h>

#define TRIM_MESSAGE_CHARS 8192
#define TRIM_SYMBOL_CHARS 256
#define TRIM_CULPRIT_CHARS 200
#define TRIM_TAG_CHARS 200

void normalize_trim(cJSON *event);

#endif
