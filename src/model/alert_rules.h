/* alert_rules — a project's alert rules (issue 19): parsed and validated
 * from their JSON ({"rules": [...]}, README "Alert rules"), the default set
 * (today's behaviour: new, regression and escalating alerts to every
 * destination), and whether a rule matches an alert on an event.
 *
 * Pure: no I/O, any thread. A parsed set is immutable; the caller frees it
 * with alert_rules_free. Bounded: at most ALERT_RULES_MAX rules with
 * bounded lists, so parsing and matching are linear in the input. */
#ifndef PERISCOPE_MODEL_ALERT_RULES_H
#define PERISCOPE_MODEL_ALERT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/json.h"

struct event_tags;

#define ALERT_RULES_MAX 50
#define ALERT_RULE_NAME_MAX 64
#define ALERT_RULE_LIST_MAX 50
#define ALERT_RULE_WINDOW_MAX 10080 /* minutes: a week */

enum alert_kind {
    ALERT_KIND_NEW = 1 << 0,
    ALERT_KIND_REGRESSION = 1 << 1,
    ALERT_KIND_ESCALATING = 1 << 2,
    ALERT_KIND_FREQUENCY = 1 << 3,
};

struct alert_rule_tag {
    char *key, *value;
};

struct alert_rule {
    char *name;
    unsigned kinds; /* enum alert_kind bits */
    int level_min;  /* index in debug..fatal; -1: any */
    char **environments;
    size_t nenvironments; /* 0: any */
    struct alert_rule_tag *tags;
    size_t ntags;
    int64_t frequency_count; /* 0: no frequency condition */
    int frequency_window;    /* minutes */
    int64_t users_count;     /* 0: no users condition */
    int users_window;
    int64_t *destinations;
    size_t ndestinations; /* 0 with all_destinations */
    bool all_destinations;
    int throttle_minutes;
};

struct alert_rules {
    size_t n;
    struct alert_rule *rule;
    bool is_default;
};

/* Parses and validates doc ({"rules": [...]}): 0 with *out, or -EINVAL with
 * a message naming the offending field in err (e.g.
 * "rules[1].when.level_at_least: …"), or -ENOMEM. */
int alert_rules_parse(const cJSON *doc, struct alert_rules **out, char *err, size_t errlen);

/* The default set. NULL on OOM. */
struct alert_rules *alert_rules_default(void);

void alert_rules_free(struct alert_rules *rules);

/* The set as the API shows it ({"rules": [...], "default": bool}). */
cJSON *alert_rules_json(const struct alert_rules *rules);

/* "new" | "regression" | "escalating" | "frequency" → the kind; 0 unknown. */
unsigned alert_kind_from_name(const char *name);

/* Whether rule r applies to an alert of kind on an event with this level
 * (NULL: error), environment (may be NULL) and tags (may be NULL). The
 * frequency and users thresholds are not looked at here. */
bool alert_rule_matches(const struct alert_rule *r, unsigned kind, const char *level,
                        const char *environment, const struct event_tags *tags);

/* Index of a level name in debug, info, warning, error, fatal; -1 unknown. */
int alert_level_index(const char *level);

#endif
