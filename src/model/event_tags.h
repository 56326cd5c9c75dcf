/* event_tags — the tag pairs of one normalized event that the issue tags
 * summary counts: environment, release, server_name, user (Sentry's
 * "id:…" / "email:…" / "username:…" / "ip:…" form), user.id and user.email
 * (what issue search finds users by) and the event's own
 * `tags` (object or list of [key, value] pairs).
 *
 * A pipeline worker extracts them from the cJSON tree before it frees the
 * tree, so the writer thread never parses JSON; the struct moves with the
 * event and is freed by its owner. Pure functions, any thread. */
#ifndef PERISCOPE_EVENT_TAGS_H
#define PERISCOPE_EVENT_TAGS_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Sentry's limits: longer keys or values are skipped, not truncated (a cut
 * value would count as a different one). */
#define EVENT_TAGS_MAX 50
#define EVENT_TAG_KEY_MAX 32
#define EVENT_TAG_VALUE_MAX 200

struct event_tag {
    const char *key, *value; /* point into the struct's own storage */
};

struct event_tags {
    size_t n;
    struct event_tag tag[]; /* n pairs, then the strings */
};

/* Extracts the pairs of event (a normalized event object); the first
 * occurrence of a key wins. 0 with *out (caller frees with free(); NULL
 * when there is no tag), -ENOMEM. */
int event_tags_extract(const cJSON *event, struct event_tags **out);

#endif
