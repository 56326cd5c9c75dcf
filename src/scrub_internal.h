/* scrub_internal — what scrub.c (rules, the tree walk) and scrub_text.c
 * (the string passes) share. Not for use outside src/scrub*.c. */
#ifndef PERISCOPE_SCRUB_INTERNAL_H
#define PERISCOPE_SCRUB_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scrub.h"

/* Key bytes are folded into these classes before matching: a letter
 * (either case), a digit, '_' or '-' (one class), anything else. */
enum { KEY_CLASS_OTHER = 0, KEY_CLASS_UNDERSCORE = 37, KEY_CLASSES = 38 };

enum scrub_key {
    SCRUB_KEY_PLAIN = 0,
    SCRUB_KEY_SENSITIVE = 1,
    SCRUB_KEY_SAFE = 2,
};

/* The automaton (Aho-Corasick, completed into a table) over every
 * sensitive word, exact sensitive name and safe field: one table lookup
 * per key byte whatever the number of words. */
struct scrub_rules {
    atomic_int refs;
    bool is_default; /* the process's default rules: never freed */
    bool enabled;
    bool scrub_ip;
    uint8_t cls[256];
    size_t nstates;
    uint16_t (*next)[KEY_CLASSES];
    uint8_t *flags; /* KEY_STATE_* */
    uint8_t *depth; /* length of the state's string (words are <= 64 bytes) */
};

/* Classifies key[0..len) (NUL bytes are ordinary bytes here). */
enum scrub_key scrub_classify(const struct scrub_rules *r, const char *key, size_t len);

/* A growable output string (malloc/realloc); never NUL-terminated until
 * taken. */
struct scrub_buf {
    char *p;
    size_t len, cap;
};
int scrub_buf_put(struct scrub_buf *b, const char *s, size_t n);

/* Runs the string passes (URL credentials, key=value, card numbers) over
 * s[0..n). Returns 1 with the scrubbed text in *out (malloc'd, NUL
 * terminated, caller frees), 0 when nothing matched, -ENOMEM. */
int scrub_text(const struct scrub_rules *r, const char *s, size_t n, char **out);

/* Whether digits d[0..n) (n <= 19) read as a payment card: a known IIN
 * prefix with one of its lengths, and the Luhn check. */
bool scrub_card_number(const char *d, size_t n);

#endif
