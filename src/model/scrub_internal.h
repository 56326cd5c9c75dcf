/* scrub_internal — what scrub_rules.c (the key automaton), scrub.c (the
 * tree walk) and scrub_text.c (the string passes) share. Not for use
 * outside src/scrub*.c. */
#ifndef PERISCOPE_SCRUB_INTERNAL_H
#define PERISCOPE_SCRUB_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/scrub.h"

/* Key bytes are folded into these classes before matching: a letter
 * (either case), a digit, '_' or '-' (one class), anything else. */
enum { KEY_CLASS_OTHER = 0, KEY_CLASS_UNDERSCORE = 37, KEY_CLASSES = 38 };

/* What a byte is to the string passes (struct scrub_rules.text). */
enum {
    TEXT_DIGIT = 1,
    TEXT_WORD = 2,     /* \w of Relay's patterns: letter, digit, '_', and any non-ASCII byte */
    TEXT_USERINFO = 4, /* RFC 3986 userinfo: unreserved, pct-encoded, sub-delims, ':' */
    TEXT_KV_KEY = 8,   /* a byte of the key in key=value: \w, '-', '.', '[', ']' */
    TEXT_KV_END = 16,  /* ends the value in key=value */
};

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
    uint8_t cls[256];  /* key byte → KEY_CLASS */
    uint8_t text[256]; /* string byte → TEXT_* */
    size_t nstates;
    uint16_t (*next)[KEY_CLASSES]; /* the transitions while building (then freed) */
    /* The transitions as matching reads them: entry [state * KEY_CLASSES +
     * class] is the next state's row offset, and its word flag in bit
     * 24 — no multiply and no second load on the byte loop. */
    uint32_t *delta;
    uint8_t *flags; /* KEY_STATE_* */
    uint8_t *depth; /* length of the state's string (words are <= 64 bytes) */
};

/* Classifies key[0..len) (NUL bytes are ordinary bytes here). */
enum scrub_key scrub_classify(const struct scrub_rules *r, const char *key, size_t len);
/* The same for a NUL-terminated key. */
enum scrub_key scrub_classify_cstr(const struct scrub_rules *r, const char *key);

/* A growable output string (malloc/realloc); never NUL-terminated until
 * taken. */
struct scrub_buf {
    char *p;
    size_t len, cap;
};
int scrub_buf_put(struct scrub_buf *b, const char *s, size_t n);

/* A payment card number has 13 to 16 digits (the lengths scrub_card_number
 * accepts). */
#define CARD_DIGITS_MIN 13
#define CARD_DIGITS_MAX 16

/* The string passes; a string that holds no '@' cannot hold URL
 * credentials, and so on (scrub.c decides with one cheap scan). */
enum {
    SCRUB_PASS_URL = 1,  /* holds '@' */
    SCRUB_PASS_KV = 2,   /* holds '=' */
    SCRUB_PASS_CARD = 4, /* holds at least 13 digits */
};

/* Runs the passes (URL credentials, key=value, card numbers) over
 * s[0..n). Returns 1 with the scrubbed text in *out (malloc'd, NUL
 * terminated, caller frees), 0 when nothing matched, -ENOMEM. */
int scrub_text(const struct scrub_rules *r, const char *s, size_t n, unsigned passes, char **out);

/* Whether digits d[0..n) read as a payment card: a known IIN prefix with
 * its length, and the Luhn check. */
bool scrub_card_number(const char *d, size_t n);

#endif
