/* grouping/glob — the globs of Sentry's frame rules (periscope.frame_rules),
 * matched in time linear in the subject.
 *
 * `**` is any text, `*` any text (not crossing '/' when path is true), `?`
 * one byte (not '/' for paths), every other byte itself; the whole subject
 * must match. These used to be compiled to anchored Lua patterns, whose
 * backtracking made the glob for any "newrelic" directory take 10 s on a
 * 128 KB path; here the glob runs as an automaton over its positions, one
 * pass over the subject: O(subject × glob) steps, no backtracking.
 *
 * Pure, any thread, no allocation (globs longer than GLOB_MAX_BYTES never
 * match). */
#ifndef PERISCOPE_GROUPING_GLOB_H
#define PERISCOPE_GROUPING_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#define GLOB_MAX_BYTES 256

bool glob_match(const char *glob, size_t glen, const char *s, size_t n, bool path);

#endif
