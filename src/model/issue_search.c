/* issue_search — see issue_search.h. */
#include "model/issue_search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

/* One token of the query as written (for messages) and as read. */
struct token {
    const char *start; /* as written */
    size_t len;
    bool negated;
    bool has_key;
    char key[ISSUE_SEARCH_KEY_MAX + 1];
    char value[ISSUE_SEARCH_MAX_BYTES + 1]; /* unquoted, unescaped */
    size_t value_len;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static int fail(char *err, size_t errlen, const struct token *t, const char *why)
{
    int shown = t->len > 80 ? 80 : (int)t->len;
    snprintf(err, errlen, "invalid search term \"%.*s%s\": %s", shown, t->start,
             t->len > 80 ? "…" : "", why);
    return -EINVAL;
}

/* A quoted string at *p (after the opening quote) into t->value; *p ends
 * after the closing quote. */
static int read_quoted(const char **p, struct token *t)
{
    const char *s = *p;
    while (*s && *s != '"') {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) s++;
        t->value[t->value_len++] = *s++;
    }
    *p = *s == '"' ? s + 1 : s; /* unclosed: the token runs to the end */
    return *s == '"' ? 0 : -EINVAL;
}

/* The next token from *p (leading space skipped): 1 read, 0 end of query,
 * -EINVAL with err. */
static int next_token(const char **p, struct token *t, char *err, size_t errlen)
{
    const char *s = *p;
    while (is_space(*s))
        s++;
    if (!*s) return 0;
    memset(t, 0, sizeof *t);
    t->start = s;
    const char *word = s;
    if (*word == '!') word++;
    const char *k = word;
    while (is_key_char(*k))
        k++;
    if (k > word && *k == ':') { /* key:value */
        t->negated = word > s;
        t->has_key = true;
        if ((size_t)(k - word) > ISSUE_SEARCH_KEY_MAX) {
            t->len = (size_t)(k - s) + 1;
            return fail(err, errlen, t, "the key is longer than 32 characters");
        }
        memcpy(t->key, word, (size_t)(k - word));
        s = k + 1;
    }
    int rc = 0;
    if (*s == '"') {
        s++;
        rc = read_quoted(&s, t);
        if (rc == 0 && *s && !is_space(*s)) rc = -EINVAL;
    } else {
        while (*s && !is_space(*s))
            t->value[t->value_len++] = *s++;
    }
    if (rc != 0) {
        while (*s && !is_space(*s))
            s++;
        t->len = (size_t)(s - t->start);
        return fail(err, errlen, t, "a quote is not closed (or text follows it)");
    }
    t->len = (size_t)(s - t->start);
    t->value[t->value_len] = '\0';
    *p = s;
    return 1;
}

static const char *keep(struct issue_search *out, const char *s)
{
    size_t len = strlen(s);
    char *dst = out->buf + out->used;
    memcpy(dst, s, len + 1);
    out->used += len + 1;
    return dst;
}

static struct issue_search_term *add(struct issue_search *out, enum issue_search_kind kind,
                                     bool negated)
{
    struct issue_search_term *term = &out->terms[out->n++];
    memset(term, 0, sizeof *term);
    term->kind = kind;
    term->negated = negated;
    return term;
}

static bool one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0) return true;
    return false;
}

static int term_is(struct issue_search *out, const struct token *t, char *err, size_t errlen)
{
    static const char *const statuses[] = {"unresolved", "resolved", "ignored", NULL};
    if (strcmp(t->value, "assigned") == 0 || strcmp(t->value, "unassigned") == 0) {
        /* is:assigned is "not assigned to nobody". */
        add(out, ISSUE_SEARCH_ASSIGNED, t->negated == (strcmp(t->value, "assigned") != 0));
        return 0;
    }
    if (!one_of(t->value, statuses))
        return fail(err, errlen, t,
                    "is: takes unresolved, resolved, ignored, assigned or unassigned");
    add(out, ISSUE_SEARCH_STATUS, t->negated)->value = keep(out, t->value);
    return 0;
}

static int term_assigned(struct issue_search *out, const struct token *t, int64_t me, char *err,
                         size_t errlen)
{
    int64_t user = 0;
    if (strcmp(t->value, "me") == 0) {
        if (me <= 0)
            return fail(err, errlen, t,
                        "assigned:me needs a signed-in user (the admin key is none); use "
                        "assigned:<user id>");
        user = me;
    } else if (strcmp(t->value, "none") != 0) {
        char *end;
        errno = 0;
        long long v = strtoll(t->value, &end, 10);
        if (t->value[0] < '1' || t->value[0] > '9' || *end || errno || v <= 0)
            return fail(err, errlen, t, "assigned: takes me, none or a user id");
        user = v;
    }
    add(out, ISSUE_SEARCH_ASSIGNED, t->negated)->user_id = user;
    return 0;
}

static int term_keyed(struct issue_search *out, const struct token *t, int64_t me, char *err,
                      size_t errlen)
{
    static const char *const levels[] = {"fatal", "error", "warning", "info", "debug", NULL};
    if (t->value_len == 0) return fail(err, errlen, t, "the value is empty");
    if (strcmp(t->key, "is") == 0) return term_is(out, t, err, errlen);
    if (strcmp(t->key, "assigned") == 0) return term_assigned(out, t, me, err, errlen);
    if (t->value_len > ISSUE_SEARCH_VALUE_MAX)
        return fail(err, errlen, t, "the value is longer than 200 bytes");
    if (strcmp(t->key, "level") == 0) {
        if (!one_of(t->value, levels))
            return fail(err, errlen, t, "level: takes fatal, error, warning, info or debug");
        add(out, ISSUE_SEARCH_LEVEL, t->negated)->value = keep(out, t->value);
        return 0;
    }
    if (strcmp(t->key, "has") == 0) {
        for (const char *c = t->value; *c; c++)
            if (!is_key_char(*c)) return fail(err, errlen, t, "has: takes a tag name");
        if (t->value_len > ISSUE_SEARCH_KEY_MAX)
            return fail(err, errlen, t, "the tag name is longer than 32 characters");
        add(out, ISSUE_SEARCH_HAS, t->negated)->key = keep(out, t->value);
        return 0;
    }
    struct issue_search_term *term = add(out, ISSUE_SEARCH_TAG, t->negated);
    term->key = keep(out, t->key);
    term->value = keep(out, t->value);
    return 0;
}

/* Free text: appended to out->text, one space between words. */
static void add_text(struct issue_search *out, const struct token *t)
{
    size_t used = strlen(out->text);
    if (used) out->text[used++] = ' ';
    memcpy(out->text + used, t->value, t->value_len + 1);
}

static int parse_tokens(const char *query, int64_t me, struct issue_search *out, char *err,
                        size_t errlen)
{
    const char *p = query;
    struct token *t = malloc(sizeof *t);
    if (!t) return -ENOMEM;
    int rc;
    while ((rc = next_token(&p, t, err, errlen)) == 1) {
        if (out->n == ISSUE_SEARCH_MAX_TERMS) {
            rc = fail(err, errlen, t, "more than 16 terms");
            break;
        }
        if (t->has_key) {
            rc = term_keyed(out, t, me, err, errlen);
        } else if (t->value_len) {
            add_text(out, t);
            rc = 0;
        }
        if (rc != 0) break;
    }
    free(t);
    if (rc < 0) return rc;
    if (out->text[0]) {
        if (out->n == ISSUE_SEARCH_MAX_TERMS) {
            snprintf(err, errlen, "invalid search: more than 16 terms");
            return -EINVAL;
        }
        add(out, ISSUE_SEARCH_TEXT, false)->value = out->text;
    }
    return 0;
}

int issue_search_parse(const char *query, int64_t me_user_id, struct issue_search *out, char *err,
                       size_t errlen)
{
    out->n = 0;
    out->used = 0;
    out->text[0] = '\0';
    if (!query) return 0;
    size_t len = strlen(query);
    if (len > ISSUE_SEARCH_MAX_BYTES) {
        snprintf(err, errlen, "invalid search: longer than %d bytes", ISSUE_SEARCH_MAX_BYTES);
        return -EINVAL;
    }
    if (!utf8_valid(query, len)) {
        snprintf(err, errlen, "invalid search: not valid UTF-8");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)query[i];
        if ((c < 0x20 && !is_space((char)c)) || c == 0x7f) {
            snprintf(err, errlen, "invalid search: control character at byte %zu", i);
            return -EINVAL;
        }
    }
    return parse_tokens(query, me_user_id, out, err, errlen);
}

bool issue_search_has_status(const struct issue_search *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->terms[i].kind == ISSUE_SEARCH_STATUS) return true;
    return false;
}
