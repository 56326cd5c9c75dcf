/* scrub_settings — a project's scrubbing settings: defaults, the admin
 * API's JSON, and the field lists as the store keeps them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/scrub.h"

void scrub_settings_default(struct scrub_settings *out)
{
    memset(out, 0, sizeof *out);
    out->enabled = true;
}

bool scrub_settings_equal(const struct scrub_settings *a, const struct scrub_settings *b)
{
    if (a->enabled != b->enabled || a->scrub_ip_addresses != b->scrub_ip_addresses ||
        a->n_sensitive != b->n_sensitive || a->n_safe != b->n_safe)
        return false;
    for (size_t i = 0; i < a->n_sensitive; i++)
        if (strcmp(a->sensitive[i], b->sensitive[i]) != 0) return false;
    for (size_t i = 0; i < a->n_safe; i++)
        if (strcmp(a->safe[i], b->safe[i]) != 0) return false;
    return true;
}

static cJSON *names_json(const char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        if (json_push(a, cJSON_CreateString(names[i])) != 0) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *scrub_settings_to_json(const struct scrub_settings *s)
{
    return json_build("{s:b, s:b, s:o*, s:o*}", "enabled", s->enabled, "scrub_ip_addresses",
                      s->scrub_ip_addresses, "sensitive_fields",
                      names_json(s->sensitive, s->n_sensitive), "safe_fields",
                      names_json(s->safe, s->n_safe));
}

/* A JSON list of field names into names / *n. */
static int names_from_json(const char *what, const cJSON *list,
                           char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t *n, char *err,
                           size_t errlen)
{
    if (!cJSON_IsArray(list) || json_size(list) > SCRUB_FIELDS_MAX) {
        snprintf(err, errlen, "%s must be a list of at most %d field names", what,
                 SCRUB_FIELDS_MAX);
        return -EINVAL;
    }
    size_t i;
    const cJSON *v;
    json_array_each(list, i, v)
    {
        const char *name = json_str(v);
        if (!name || strlen(name) != json_strlen(v) || !scrub_field_name_valid(name)) {
            snprintf(err, errlen, "%s[%zu] must be 1 to %d characters of A-Z, a-z, 0-9, _ and -",
                     what, i, SCRUB_FIELD_MAX_BYTES);
            return -EINVAL;
        }
        memcpy(names[i], name, strlen(name) + 1);
    }
    *n = json_size(list);
    return 0;
}

int scrub_settings_patch(struct scrub_settings *s, const cJSON *patch, char *err, size_t errlen)
{
    if (!cJSON_IsObject(patch)) {
        snprintf(err, errlen, "scrubbing must be an object");
        return -EINVAL;
    }
    const char *key;
    const cJSON *v;
    json_object_each((cJSON *)patch, key, v)
    {
        bool *flag = strcmp(key, "enabled") == 0              ? &s->enabled
                     : strcmp(key, "scrub_ip_addresses") == 0 ? &s->scrub_ip_addresses
                                                              : NULL;
        int rc = 0;
        if (flag) {
            if (!cJSON_IsBool(v)) {
                snprintf(err, errlen, "%s must be true or false", key);
                return -EINVAL;
            }
            *flag = cJSON_IsTrue(v);
        } else if (strcmp(key, "sensitive_fields") == 0) {
            rc = names_from_json(key, v, s->sensitive, &s->n_sensitive, err, errlen);
        } else if (strcmp(key, "safe_fields") == 0) {
            rc = names_from_json(key, v, s->safe, &s->n_safe, err, errlen);
        } else {
            snprintf(err, errlen,
                     "unknown scrubbing setting \"%.64s\" (enabled, scrub_ip_addresses, "
                     "sensitive_fields, safe_fields)",
                     key);
            return -EINVAL;
        }
        if (rc != 0) return rc;
    }
    return 0;
}

void scrub_list_join(const char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t n,
                     char out[SCRUB_LIST_TEXT_MAX])
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < SCRUB_FIELDS_MAX; i++) {
        size_t k = strnlen(names[i], SCRUB_FIELD_MAX_BYTES);
        if (i) out[len++] = ',';
        memcpy(out + len, names[i], k);
        len += k;
        out[len] = '\0';
    }
}

int scrub_list_split(const char *text, char names[][SCRUB_FIELD_MAX_BYTES + 1], size_t *n)
{
    *n = 0;
    if (!text || !*text) return 0;
    for (const char *p = text;;) {
        size_t k = strcspn(p, ",");
        if (*n == SCRUB_FIELDS_MAX || k == 0 || k > SCRUB_FIELD_MAX_BYTES) return -EINVAL;
        memcpy(names[*n], p, k);
        names[*n][k] = '\0';
        if (!scrub_field_name_valid(names[*n])) return -EINVAL;
        (*n)++;
        if (!p[k]) return 0;
        p += k + 1;
    }
}
