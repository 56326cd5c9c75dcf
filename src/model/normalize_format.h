/* normalize_format — a log message template filled from its params the way
 * Relay fills `logentry.formatted` (relay-event-normalization's logentry
 * module, which formats with the dynfmt crate):
 *
 *   - a template containing '%' is Python %-style: %s %d %i %u %f %g %c %r
 *     %o %x %X %e %E, %(name)s against an object of params, %% for '%';
 *     flags, width, precision and length modifiers are read and ignored
 *     (dynfmt parses them and never applies them);
 *   - otherwise a template containing '{' is simple-curly style: {} the next
 *     param, {0} the param at that index, {name} the named one;
 *   - any other template is not formatted.
 *
 * A param prints as Relay prints its value: strings as they are; integers in
 * decimal; other numbers as Rust's Display prints an f64 (shortest digits
 * that read back, never an exponent); true/false; arrays and objects as
 * compact JSON with sorted keys (pretty JSON, two-space indent, with the
 * '#' flag); %r prints JSON (strings quoted); %o %x %X print integers only,
 * %e %E non-integral numbers only. The whole template is left unformatted
 * when a placeholder has no param (absent, null, an index into an object or
 * a key into a list) or a conversion cannot print its param.
 *
 * JSON carries no difference between 2 and 2.0 once parsed: integral
 * numbers are integers here (Relay keeps 2.0 a float: %r prints "2.0" there,
 * "2" here, and %e formats it there but not here).
 *
 * Text produced here is capped as normalize_trim caps messages (Relay's
 * limit): at most TRIM_MESSAGE_CHARS characters (UTF-8 lead bytes), a
 * longer text keeping its first TRIM_MESSAGE_CHARS - 3 followed by "...";
 * the buffer never holds more than one character past the cap.
 *
 * Pure functions of their arguments: any thread. Bounded: the %-template
 * matcher gives up (template unformatted) after a number of steps linear in
 * the template's length, whatever the template. */
#ifndef PERISCOPE_NORMALIZE_FORMAT_H
#define PERISCOPE_NORMALIZE_FORMAT_H

#include <cjson/cJSON.h>

#include "model/normalize_trim.h"

/* Fills tmpl from params (an array or object; anything else fills no
 * placeholder). 1 with *out (caller frees) the formatted, capped text; 0
 * when the template is not formatted (*out NULL: the template stands);
 * -ENOMEM. */
int normalize_format(const char *tmpl, const cJSON *params, char **out);

/* Relay's lenient message text: a string as it is, false as nothing (NULL,
 * *err 0), any other value as its compact JSON. Capped. Caller frees; NULL
 * with *err -ENOMEM when out of memory. */
char *normalize_lenient_text(const cJSON *v, int *err);

#endif
