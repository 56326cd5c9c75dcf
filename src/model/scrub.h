/* scrub — personal data scrubbing of one event's cJSON tree, in place, on
 * the pipeline worker before anything of the event is kept (stored JSON,
 * title, tags, alerts). Modelled on Relay's default data scrubbing:
 *
 *   key rule    the value of a key that contains a sensitive word becomes
 *               "[Filtered]", whatever its type (an object or an array
 *               whole); null, booleans, "" and empty containers stay. The
 *               words: SCRUB_DEFAULT_WORDS plus the project's
 *               sensitive_fields. Keys named exactly cookie, cookies or
 *               set-cookie too (the Cookie and Set-Cookie headers and the
 *               request's cookies); Authorization and X-Api-Key contain a
 *               word. Case does not matter and '-' equals '_'. A
 *               two-element array whose first element is a string is a
 *               [key, value] pair (headers and cookies sent as lists).
 *   strings     in every other string value: a credit card number (IIN
 *               prefix, the network's length of 13 to 16 digits, Luhn;
 *               digits may be grouped by single spaces or dashes; not a
 *               decimal fraction) becomes "[Filtered]"; so does the
 *               user:password part of a URL ("https://[Filtered]@host/1",
 *               DSNs included) and the value of key=value when the key
 *               contains a sensitive word ("token=[Filtered]&page=2").
 *               Integral numbers that read as a card are replaced too.
 *   safe fields keys named exactly like one of the project's safe_fields
 *               keep their value, and everything beneath it, untouched.
 *   left alone  the top-level fingerprint, sdk and debug_meta (no personal
 *               data; a fingerprint must not lose parts to the pair rule).
 *   ip          with scrub_ip_addresses, user.ip_address and
 *               request.env.REMOTE_ADDR are removed (independent of
 *               `enabled`, as in Relay).
 *
 * Linear in the event's size whatever it holds (keys are matched by one
 * automaton over all words, strings are scanned in a bounded number of
 * passes); containers nested deeper than SCRUB_MAX_DEPTH are filtered whole.
 *
 * A struct scrub_rules is immutable once built and reference-counted, so
 * the script registry builds a project's rules once and every worker reads
 * them; scrub_event itself touches nothing but the tree it is given. */
#ifndef PERISCOPE_SCRUB_H
#define PERISCOPE_SCRUB_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "base/json.h"

#define SCRUB_FILTERED "[Filtered]"
#define SCRUB_FIELDS_MAX 32      /* sensitive_fields, and safe_fields, per project */
#define SCRUB_FIELD_MAX_BYTES 64 /* one field name: [A-Za-z0-9_-], 1..64 bytes */
#define SCRUB_MAX_DEPTH 1024

/* The built-in sensitive words (matched as substrings of keys). */
extern const char *const SCRUB_DEFAULT_WORDS[];

/* A project's settings as stored and shown by the admin API. */
struct scrub_settings {
    bool enabled;            /* the key, string and safe-field rules (default true) */
    bool scrub_ip_addresses; /* drop user.ip_address (default false: kept) */
    size_t n_sensitive, n_safe;
    char sensitive[SCRUB_FIELDS_MAX][SCRUB_FIELD_MAX_BYTES + 1];
    char safe[SCRUB_FIELDS_MAX][SCRUB_FIELD_MAX_BYTES + 1];
};

/* 1..SCRUB_FIELD_MAX_BYTES bytes of [A-Za-z0-9_-]. */
bool scrub_field_name_valid(const char *name);

/* Enabled, IPs kept, no extra fields. */
void scrub_settings_default(struct scrub_settings *out);
bool scrub_settings_equal(const struct scrub_settings *a, const struct scrub_settings *b);

/* {"enabled", "scrub_ip_addresses", "sensitive_fields": [...],
 *  "safe_fields": [...]}; caller owns (json_decref), NULL on OOM. */
cJSON *scrub_settings_to_json(const struct scrub_settings *s);

/* Applies the members patch holds (any of the four above) to *s; members
 * it does not hold stay. 0, or -EINVAL with a message in err (s may then
 * be partly changed). Field lists replace the old list whole; a name must
 * be 1..SCRUB_FIELD_MAX_BYTES of [A-Za-z0-9_-], at most SCRUB_FIELDS_MAX. */
int scrub_settings_patch(struct scrub_settings *s, const cJSON *patch, char *err, size_t errlen);

/* A field list as the store keeps it: names joined by ',' (names cannot
 * hold one). list_join writes into out (>= SCRUB_FIELDS_MAX *
 * (SCRUB_FIELD_MAX_BYTES + 1) bytes); list_split parses text (NULL or ""
 * is the empty list). -EINVAL when a stored name is invalid. */
#define SCRUB_LIST_TEXT_MAX (SCRUB_FIELDS_MAX * (SCRUB_FIELD_MAX_BYTES + 1))
void scrub_list_join(const char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t n,
                     char out[SCRUB_LIST_TEXT_MAX]);
int scrub_list_split(const char *text, char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t *n);

struct scrub_rules;

/* Builds the rules for settings (validated: scrub_settings_patch's rules).
 * 0 with *out (one reference, the caller's), -EINVAL, or -ENOMEM. */
int scrub_rules_new(const struct scrub_settings *settings, struct scrub_rules **out);
/* The rules of the default settings: built once per process, never freed;
 * NULL only when that build ran out of memory. Thread-safe. */
const struct scrub_rules *scrub_rules_default(void);
/* Another reference / drop one (frees at zero). Any thread; the default
 * rules are not counted. NULL is fine for both. */
struct scrub_rules *scrub_rules_ref(const struct scrub_rules *r);
void scrub_rules_unref(const struct scrub_rules *r);

/* Scrubs event (an object) with rules (NULL: the default rules). Returns
 * the number of values it replaced or removed (0: the tree is unchanged,
 * byte for byte), or -ENOMEM — then the tree may be half scrubbed and must
 * not be stored. Only the calling thread touches the tree. */
int scrub_event(const struct scrub_rules *rules, cJSON *event);

/* For tests and the dry run: whether rules treat key as sensitive (1),
 * safe (2) or neither (0). */
int scrub_key_class(const struct scrub_rules *rules, const char *key, size_t len);

#endif
