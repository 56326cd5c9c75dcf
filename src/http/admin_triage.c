/* admin_triage — releases, alert rules, and the snooze / resolution of a
 * status change (see admin_triage.h):
 *   GET /api/admin/projects/{p}/releases     versions, first/last seen, events, new issues
 *   GET /api/admin/projects/{p}/alert_rules  the rules ({"rules", "default"})
 *   PUT /api/admin/projects/{p}/alert_rules  {"rules": [...]} ({"rules": null}: the default)
 */
#include "http/admin_triage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/semver.h"
#include "http/admin_issues_params.h"
#include "model/alert_rules.h"
#include "base/config.h"
#include "http/admin.h"
#include "store/store.h"

#define THRESHOLD_MAX 1000000000
#define VERSION_MAX 200

static int bad(struct admin_resp *resp, const char *code, const char *msg)
{
    admin_error(resp, 400, code, "%s", msg);
    return -EINVAL;
}

/* A positive integer up to THRESHOLD_MAX, else 0. */
static int64_t threshold(const cJSON *v)
{
    if (!json_is_int(v)) return 0;
    int64_t n = json_i64(v);
    return n >= 1 && n <= THRESHOLD_MAX ? (int64_t)n : 0;
}

static int parse_snooze(const cJSON *u, struct issue_snooze_spec *s, struct admin_resp *resp)
{
    static const char *const msg =
        "ignore_until must be one of {\"count\": N}, {\"until\": RFC 3339 time}, {\"users\": N}, "
        "{\"rate\": N, \"window_minutes\": M} (N 1..1000000000, M 1..10080)";
    size_t size = json_size(u);
    cJSON *v;
    if (!cJSON_IsObject(u)) return bad(resp, "invalid_ignore_until", msg);
    if (size == 1 && (v = json_get(u, "count"))) {
        s->kind = "count";
        s->threshold = threshold(v);
    } else if (size == 1 && (v = json_get(u, "users"))) {
        s->kind = "users";
        s->threshold = threshold(v);
    } else if (size == 1 && (v = json_get(u, "until"))) {
        s->kind = "until";
        if (!cJSON_IsString(v) || admin_parse_time(json_str(v), &s->until_ms) != 0)
            return bad(resp, "invalid_ignore_until", "ignore_until.until must be an RFC 3339 time");
        s->threshold = 1;
    } else if (size == 2 && (v = json_get(u, "rate"))) {
        s->kind = "rate";
        s->threshold = threshold(v);
        int64_t w = threshold(json_get(u, "window_minutes"));
        if (w < 1 || w > ALERT_RULE_WINDOW_MAX) s->threshold = 0;
        s->window_minutes = (int)w;
    } else {
        return bad(resp, "invalid_ignore_until", msg);
    }
    return s->threshold > 0 ? 0 : bad(resp, "invalid_ignore_until", msg);
}

int admin_triage_status_body(const cJSON *body, const char *status,
                             struct issue_snooze_spec *snooze,
                             struct issue_resolution_spec *resolution, struct admin_resp *resp)
{
    memset(snooze, 0, sizeof *snooze);
    memset(resolution, 0, sizeof *resolution);
    cJSON *until = json_get(body, "ignore_until");
    cJSON *in = json_get(body, "resolved_in");
    if (until && !cJSON_IsNull(until)) {
        if (strcmp(status, "ignored") != 0)
            return bad(resp, "invalid_ignore_until", "ignore_until goes with status ignored");
        if (parse_snooze(until, snooze, resp) != 0) return -EINVAL;
    }
    if (in && !cJSON_IsNull(in)) {
        const char *v = json_str(in);
        if (strcmp(status, "resolved") != 0)
            return bad(resp, "invalid_resolved_in", "resolved_in goes with status resolved");
        if (!v || !*v || strlen(v) > VERSION_MAX)
            return bad(resp, "invalid_resolved_in",
                       "resolved_in must be \"next_release\" or a release version (1-200 bytes)");
        bool next = strcmp(v, "next_release") == 0;
        resolution->kind = next ? "next_release" : "version";
        resolution->version = next ? NULL : v;
    }
    return 0;
}

static void releases_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    cJSON *rows = NULL;
    int rc = admin_project_check(db, pid, resp, NULL) != 0 ? 1 : releases_list(db, pid, &rows);
    store_release(req->ctx->store, db);
    if (rc > 0) return;
    if (rc < 0) {
        admin_db_error(resp, "release list", rc);
        return;
    }
    size_t i;
    cJSON *row;
    json_array_each(rows, i, row)
    {
        admin_time_field(row, "first_seen");
        admin_time_field(row, "last_seen");
        json_set(row, "semver", cJSON_CreateBool(semver_valid(json_str(json_get(row, "version")))));
    }
    admin_list(resp, rows, NULL);
}

/* The project's rules (the default set when it has none). */
static int rules_of(struct db *db, int64_t pid, struct alert_rules **out)
{
    char *text = NULL, err[200];
    int rc = alert_rules_load(db, pid, &text);
    if (rc == -ENOENT) {
        *out = alert_rules_default();
        return *out ? 0 : -ENOMEM;
    }
    if (rc != 0) return rc;
    cJSON *doc = json_parse_text(text);
    free(text);
    rc = doc ? alert_rules_parse(doc, out, err, sizeof err) : -EIO;
    cJSON_Delete(doc);
    return rc;
}

static void rules_get(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    struct db *db = store_acquire(req->ctx->store);
    struct alert_rules *rules = NULL;
    int rc = admin_project_check(db, pid, resp, NULL) != 0 ? 1 : rules_of(db, pid, &rules);
    store_release(req->ctx->store, db);
    if (rc > 0) return;
    if (rc < 0) {
        admin_db_error(resp, "alert rules", rc);
        return;
    }
    admin_json(resp, 200, alert_rules_json(rules));
    alert_rules_free(rules);
}

/* Every destination the rules name belongs to the project: 0, 1 after
 * answering 400, or negative. */
static int check_destinations(struct db *db, int64_t pid, const struct alert_rules *rules,
                              struct admin_resp *resp)
{
    for (size_t i = 0; i < rules->n; i++) {
        for (size_t j = 0; j < rules->rule[i].ndestinations; j++) {
            int rc = alert_rules_destination_exists(db, pid, rules->rule[i].destinations[j]);
            if (rc < 0) return rc;
            if (rc == 0) {
                admin_error(resp, 400, "invalid_rules",
                            "rules[%zu].destinations: %lld is not a destination of this project", i,
                            (long long)rules->rule[i].destinations[j]);
                return 1;
            }
        }
    }
    return 0;
}

static void rules_put(const struct admin_req *req, struct admin_resp *resp)
{
    int64_t pid = admin_param_id(req, resp, 0);
    if (pid < 0) return;
    cJSON *body = admin_body_object(req, resp);
    if (!body) return;
    struct alert_rules *rules = NULL;
    char err[256];
    bool reset = json_size(body) == 1 && cJSON_IsNull(json_get(body, "rules"));
    int rc = reset ? 0 : alert_rules_parse(body, &rules, err, sizeof err);
    if (rc == -EINVAL) {
        admin_error(resp, 400, "invalid_rules", "%s", err);
        cJSON_Delete(body);
        return;
    }
    char *text = NULL;
    if (rc == 0 && rules) {
        cJSON *canonical = alert_rules_json(rules);
        cJSON_DeleteItemFromObjectCaseSensitive(canonical, "default");
        text = json_print(canonical, 0);
        cJSON_Delete(canonical);
        if (!text) rc = -ENOMEM;
    }
    struct db *db = store_acquire(req->ctx->store);
    if (rc == 0 && admin_project_check(db, pid, resp, NULL) != 0) rc = 1;
    if (rc == 0 && rules) rc = check_destinations(db, pid, rules, resp);
    if (rc == 0) rc = alert_rules_save(db, pid, text, clock_wall_ms());
    if (rc == 0 && !rules && !(rules = alert_rules_default())) rc = -ENOMEM;
    store_release(req->ctx->store, db);
    free(text);
    cJSON_Delete(body);
    if (rc < 0) admin_db_error(resp, "alert rules", rc);
    if (rc == 0) admin_json(resp, 200, alert_rules_json(rules));
    alert_rules_free(rules);
}

const struct admin_route admin_routes_triage[] = {
    {"GET", "/api/admin/projects/{}/releases", releases_get},
    {"GET", "/api/admin/projects/{}/alert_rules", rules_get},
    {"PUT", "/api/admin/projects/{}/alert_rules", rules_put},
    {NULL, NULL, NULL},
};
