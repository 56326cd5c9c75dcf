/* grouping/glob — frame-rule globs as an automaton (glob.h). */
#include "grouping/glob.h"

#include <string.h>

enum token { LITERAL, ONE, STAR, ANY_TEXT };

struct glob {
    unsigned char kind[GLOB_MAX_BYTES];
    unsigned char byte[GLOB_MAX_BYTES];
    size_t n;
};

static void compile(const char *g, size_t glen, struct glob *out)
{
    out->n = 0;
    for (size_t i = 0; i < glen; out->n++) {
        if (g[i] == '*' && i + 1 < glen && g[i + 1] == '*') {
            out->kind[out->n] = ANY_TEXT;
            i += 2;
        } else {
            out->kind[out->n] = g[i] == '*' ? STAR : g[i] == '?' ? ONE : LITERAL;
            out->byte[out->n] = (unsigned char)g[i];
            i++;
        }
    }
}

/* A star may match nothing: its state also stands at the next token. */
static void close_over_stars(const struct glob *g, unsigned char *on)
{
    for (size_t k = 0; k < g->n; k++)
        if (on[k] && (g->kind[k] == STAR || g->kind[k] == ANY_TEXT)) on[k + 1] = 1;
}

bool glob_match(const char *glob, size_t glen, const char *s, size_t n, bool path)
{
    if (glen > GLOB_MAX_BYTES) return false;
    struct glob g;
    compile(glob, glen, &g);
    /* on[k]: the subject read so far can end with token k next */
    unsigned char on[GLOB_MAX_BYTES + 1] = {0}, next[GLOB_MAX_BYTES + 1];
    on[0] = 1;
    close_over_stars(&g, on);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool in_segment = !(path && c == '/');
        bool any = false;
        memset(next, 0, g.n + 1);
        for (size_t k = 0; k < g.n; k++) {
            if (!on[k]) continue;
            switch (g.kind[k]) {
            case LITERAL:
                if (c == g.byte[k]) next[k + 1] = 1;
                break;
            case ONE:
                if (in_segment) next[k + 1] = 1;
                break;
            case STAR:
                if (in_segment) next[k] = 1;
                break;
            case ANY_TEXT:
                next[k] = 1;
                break;
            }
            any |= next[k] | next[k + 1];
        }
        if (!any) return false;
        close_over_stars(&g, next);
        memcpy(on, next, g.n + 1);
    }
    return on[g.n];
}
