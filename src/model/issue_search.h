/* issue_search — the issue search language of `?query=` (README "Search"),
 * parsed once into terms whose values the store binds as parameters: no
 * text of the query ever becomes SQL.
 *
 *   is:unresolved|resolved|ignored|assigned|unassigned
 *   level:error           (fatal, error, warning, info, debug)
 *   assigned:me|none|<user id>
 *   environment:production  release:1.2.3  user.email:a@b.c  user.id:42
 *   any tag:value, value quoted ("with spaces", \" and \\ escaped)
 *   !key:value            negation (any of the above)
 *   has:tag  !has:tag     issues that saw (no) event with that tag
 *   anything else         free text: one case-insensitive substring of the
 *                         title, culprit or message (the words joined by a
 *                         space; "a quoted phrase" is one word)
 *
 * Terms are ANDed. A term that cannot be understood fails the whole query
 * with a message naming it. Bounded: at most ISSUE_SEARCH_MAX_BYTES of
 * input and ISSUE_SEARCH_MAX_TERMS terms. Pure; any thread. */
#ifndef PERISCOPE_ISSUE_SEARCH_H
#define PERISCOPE_ISSUE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISSUE_SEARCH_MAX_BYTES 1024
#define ISSUE_SEARCH_MAX_TERMS 16
#define ISSUE_SEARCH_KEY_MAX 32    /* a tag key, as event_tags keeps them */
#define ISSUE_SEARCH_VALUE_MAX 200 /* a tag value */

enum issue_search_kind {
    ISSUE_SEARCH_STATUS,   /* value: unresolved | resolved | ignored */
    ISSUE_SEARCH_LEVEL,    /* value */
    ISSUE_SEARCH_ASSIGNED, /* user_id (0: nobody) */
    ISSUE_SEARCH_TAG,      /* key, value */
    ISSUE_SEARCH_HAS,      /* key */
    ISSUE_SEARCH_TEXT,     /* value: the free text (at most one such term) */
};

struct issue_search_term {
    enum issue_search_kind kind;
    bool negated;
    const char *key, *value; /* point into the search's own buffer */
    int64_t user_id;
};

struct issue_search {
    size_t n;
    struct issue_search_term terms[ISSUE_SEARCH_MAX_TERMS];
    size_t used;                              /* bytes of buf in use */
    char buf[2 * ISSUE_SEARCH_MAX_BYTES + 8]; /* the terms' strings */
    char text[ISSUE_SEARCH_MAX_BYTES + 1];    /* the free text, words joined */
};

/* Parses query (NUL-terminated; NULL or "" is no term). me_user_id is the
 * user of the request, for assigned:me (0: there is none, e.g. the admin
 * key: then assigned:me fails). 0, or -EINVAL with err naming the term. */
int issue_search_parse(const char *query, int64_t me_user_id, struct issue_search *out, char *err,
                       size_t errlen);

/* Whether the search has a status term (is:unresolved, …), so that the
 * list's default status does not apply. */
bool issue_search_has_status(const struct issue_search *s);

#endif
