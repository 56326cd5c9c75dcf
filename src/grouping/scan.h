/* grouping/scan — character classes and small matchers shared by the
 * parameterization scanners (internal to src/grouping/).
 *
 * Python's str regexes are Unicode-aware; here every byte >= 0x80 counts
 * as a word character (true for letters in UTF-8 text, the common case),
 * and \s is ASCII whitespace plus the 0x1c-0x1f separators Python counts. */
#ifndef PERISCOPE_GROUPING_SCAN_H
#define PERISCOPE_GROUPING_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* What one parameterize call has learnt about the text, so that no
 * alternative rescans a run from every start inside it: positions only
 * grow, and every start below a fail_until fails the same way. */
struct scan_memo {
    size_t email_fail, host_fail;    /* email / hostname: no match starts before these */
    size_t digits_end, duration_end; /* the digit run up to digits_end ends a seconds
                                      * duration at duration_end (0: it does not) */
    size_t repr_from, repr_stop;     /* no ')' or '\n' in [repr_from, repr_stop) */
};

struct scan {
    const unsigned char *s;
    size_t n;
    struct scan_memo *memo; /* the call's; never NULL */
};

static inline int sc_at(const struct scan *sc, size_t i)
{
    return i < sc->n ? sc->s[i] : -1;
}

static inline bool sc_digit(int c)
{
    return c >= '0' && c <= '9';
}
static inline bool sc_hex(int c)
{
    return sc_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline bool sc_alnum(int c)
{
    return sc_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool sc_word(int c)
{
    return c >= 0 && (sc_alnum(c) || c == '_' || c >= 0x80);
}
static inline bool sc_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* \b at position i: a word character on exactly one side. */
static inline bool sc_boundary(const struct scan *sc, size_t i)
{
    bool before = i > 0 && sc_word(sc->s[i - 1]);
    return before != sc_word(sc_at(sc, i));
}

/* Length of the run of characters satisfying pred from i, at most max. */
static inline size_t sc_run(const struct scan *sc, size_t i, bool (*pred)(int), size_t max)
{
    size_t k = 0;
    while (k < max && pred(sc_at(sc, i + k)))
        k++;
    return k;
}

/* Exactly k digits at i (more may follow). */
static inline bool sc_digits(const struct scan *sc, size_t i, size_t k)
{
    return sc_run(sc, i, sc_digit, k) == k;
}

static inline bool sc_lit(const struct scan *sc, size_t i, const char *lit)
{
    size_t k = strlen(lit);
    return i + k <= sc->n && memcmp(sc->s + i, lit, k) == 0;
}

/* Byte length of the UTF-8 character at i (1 for stray bytes). */
static inline size_t sc_char_len(const struct scan *sc, size_t i)
{
    int c = sc_at(sc, i);
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    size_t j = 1;
    while (j < k && i + j < sc->n && (sc->s[i + j] & 0xc0) == 0x80)
        j++;
    return j;
}

/* Date and time forms (parameterize_date.c): match length at i, or 0. */
size_t scan_date(const struct scan *sc, size_t i);

#endif
