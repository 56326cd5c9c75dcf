/* semver — ordering release names: Semantic Versioning 2.0 precedence.
 *
 * A release parses when it is, after an optional "package@" prefix and an
 * optional "v", MAJOR.MINOR[.PATCH] (decimal, no leading zeros beyond "0",
 * each below 2^63), an optional "-" pre-release (dot-separated identifiers
 * of [0-9A-Za-z-]) and an optional "+" build (ignored for precedence).
 * Two releases compare only when both parse and their package prefixes are
 * equal. Pure functions, any thread, bounded by the strings' lengths. */
#ifndef PERISCOPE_BASE_SEMVER_H
#define PERISCOPE_BASE_SEMVER_H

/* 0 with *cmp < 0, 0 or > 0 (a before, equal to, after b); -EINVAL when
 * either does not parse or the packages differ. */
int semver_compare(const char *a, const char *b, int *cmp);

/* true when s parses. */
int semver_valid(const char *s);

#endif
