/* scrub_text — the passes over one string value (see scrub.h): URL
 * credentials, key=value with a sensitive key, payment card numbers. Each
 * pass reads its input once (the card pass looks back over at most
 * CARD_DIGITS_MAX digit groups), so a string costs a few passes of its
 * length whatever it holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/scrub_internal.h"

#define FILTERED_LEN (sizeof SCRUB_FILTERED - 1)

int scrub_buf_put(struct scrub_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* One pass's output: the input up to `copied` is in out already. */
struct pass {
    const uint8_t *text; /* the rules' byte classes (TEXT_*) */
    const char *s;
    size_t n;
    size_t copied;
    struct scrub_buf out;
    int err;
    bool changed;
};

/* s[start..end) becomes "[Filtered]" (unless it already is). */
static void redact(struct pass *p, size_t start, size_t end)
{
    if (end - start == FILTERED_LEN && memcmp(p->s + start, SCRUB_FILTERED, FILTERED_LEN) == 0)
        return;
    if (p->err || scrub_buf_put(&p->out, p->s + p->copied, start - p->copied) != 0 ||
        scrub_buf_put(&p->out, SCRUB_FILTERED, FILTERED_LEN) != 0) {
        p->err = -ENOMEM;
        return;
    }
    p->copied = end;
    p->changed = true;
}

/* Ends a pass: 1 with the new text in *io and its length in *len (the old
 * text freed when it was a previous pass's), 0 unchanged, -ENOMEM. */
static int finish(struct pass *p, char **io, size_t *len, bool owned)
{
    if (!p->err && p->changed && scrub_buf_put(&p->out, p->s + p->copied, p->n - p->copied) != 0)
        p->err = -ENOMEM;
    if (p->err || !p->changed) {
        free(p->out.p);
        return p->err ? p->err : 0;
    }
    if (owned) free(*io);
    *io = p->out.p;
    *len = p->out.len;
    return 1;
}

static bool is(const struct pass *p, char c, uint8_t what)
{
    return (p->text[(unsigned char)c] & what) != 0;
}

/* scheme://user:password@host → scheme://[Filtered]@host. After each
 * "://" the userinfo run is read once, and the next search starts where
 * it stopped ('/' ends it, and every "://" holds one). */
static void pass_url_credentials(struct pass *p)
{
    size_t i = 0;
    while (i + 3 <= p->n && !p->err) {
        const char *hit = memmem(p->s + i, p->n - i, "://", 3);
        if (!hit) break;
        size_t j = (size_t)(hit - p->s) + 3, k = j;
        while (k < p->n && is(p, p->s[k], TEXT_USERINFO))
            k++;
        if (k < p->n && p->s[k] == '@' && k > j) redact(p, j, k);
        i = k > j ? k - 1 : j;
    }
}

/* key=value where the key holds a sensitive word → key=[Filtered] (query
 * strings, form bodies, cookie strings, log lines). From each '=' the key
 * is read backwards, never past the end of what was read before, so keys
 * are disjoint and each byte is read a bounded number of times. */
static void pass_key_values(const struct scrub_rules *r, struct pass *p)
{
    size_t done = 0; /* bytes before this are read */
    while (done < p->n && !p->err) {
        const char *eq = memchr(p->s + done, '=', p->n - done);
        if (!eq) break;
        size_t i = (size_t)(eq - p->s), key = i;
        while (key > done && is(p, p->s[key - 1], TEXT_KV_KEY))
            key--;
        done = i + 1;
        if (key == i || scrub_classify(r, p->s + key, i - key) != SCRUB_KEY_SENSITIVE) continue;
        size_t end = i + 1;
        while (end < p->n && !is(p, p->s[end], TEXT_KV_END))
            end++;
        if (end > i + 1) redact(p, i + 1, end);
        done = end;
    }
}

/* Lengths a card number may have, by its first digits: the IIN ranges
 * and lengths of the networks Relay's @creditcard rule knows (Visa,
 * Mastercard, Amex, Discover) and of Diners, JCB and UnionPay — only the
 * common lengths, since a rarer one (Visa's 19 digits) would mostly catch
 * ids that happen to pass Luhn. */
static bool card_length_ok(const char *d, size_t n)
{
    int two = (d[0] - '0') * 10 + (d[1] - '0');
    int four = two * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    switch (d[0]) {
    case '4':
        return n == 13 || n == 16; /* Visa */
    case '5':
        return two >= 51 && two <= 55 && n == 16; /* Mastercard */
    case '2':
        return four >= 2221 && four <= 2720 && n == 16; /* Mastercard */
    case '3':
        if (two == 34 || two == 37) return n == 15;                                   /* Amex */
        if (two == 36 || two == 38 || (four >= 3000 && four <= 3059)) return n == 14; /* Diners */
        return four >= 3528 && four <= 3589 && n == 16;                               /* JCB */
    case '6': /* Discover, UnionPay */
        return (four == 6011 || two == 65 || (four >= 6440 && four <= 6499) || two == 62) &&
               n == 16;
    default:
        return false;
    }
}

bool scrub_card_number(const char *d, size_t n)
{
    if (n < CARD_DIGITS_MIN || n > CARD_DIGITS_MAX || !card_length_ok(d, n)) return false;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i % 2 == 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
        sum += v;
    }
    return sum % 10 == 0;
}

/* A run of digits within a run of groups. */
struct group {
    size_t start, len;
};

/* Whether groups g[0..n) (in order, joined by single separators), total
 * digits in all, read as a card number. */
static bool groups_are_card(const char *s, const struct group *g, size_t n, size_t total)
{
    char first = s[g[0].start];
    if (first < '2' || first > '6' || total < CARD_DIGITS_MIN) return false; /* no network */
    char d[CARD_DIGITS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(d + k, s + g[i].start, g[i].len);
        k += g[i].len;
    }
    return scrub_card_number(d, k);
}

/* After a group that ends at a word boundary: the longest card number
 * among the recent groups that ends with this one. */
static void try_card_ending_here(struct pass *p, struct group *ring, size_t *nring)
{
    size_t total = 0, best = 0;
    for (size_t k = *nring; k > 0; k--) {
        total += ring[k - 1].len;
        if (total > CARD_DIGITS_MAX) break;
        if (ring[k - 1].start >= p->copied &&
            groups_are_card(p->s, ring + k - 1, *nring - k + 1, total))
            best = k;
    }
    if (!best) return;
    struct group *last = &ring[*nring - 1];
    redact(p, ring[best - 1].start, last->start + last->len);
    *nring = 0;
}

/* Whether s[i] is the point of a decimal fraction: "42.5". */
static bool decimal_point_at(const struct pass *p, size_t i)
{
    return i + 1 < p->n && p->s[i] == '.' && is(p, p->s[i + 1], TEXT_DIGIT) && i > 0 &&
           is(p, p->s[i - 1], TEXT_DIGIT);
}

/* One run of digit groups from s[i], a digit at a word boundary; returns
 * where the run stopped. Digits around a decimal point are a number, not
 * a card (a float's 16 fraction digits pass Luhn one time in ten). */
static size_t card_run(struct pass *p, size_t i)
{
    struct group ring[CARD_DIGITS_MAX];
    size_t nring = 0;
    if (i > 0 && decimal_point_at(p, i - 1)) {
        while (i < p->n && is(p, p->s[i], TEXT_DIGIT))
            i++;
        return i;
    }
    for (;;) {
        struct group g = {i, 0};
        while (i < p->n && is(p, p->s[i], TEXT_DIGIT))
            i++;
        g.len = i - g.start;
        if (i < p->n && is(p, p->s[i], TEXT_WORD)) { /* a word goes on: no boundary */
            while (i < p->n && is(p, p->s[i], TEXT_WORD))
                i++;
            return i;
        }
        if (decimal_point_at(p, i)) return i;
        if (g.len > CARD_DIGITS_MAX) {
            nring = 0;
        } else {
            if (nring == CARD_DIGITS_MAX) memmove(ring, ring + 1, --nring * sizeof *ring);
            ring[nring++] = g;
            try_card_ending_here(p, ring, &nring);
        }
        if (i + 1 >= p->n || (p->s[i] != ' ' && p->s[i] != '-') || !is(p, p->s[i + 1], TEXT_DIGIT))
            return i;
        i++; /* the separator */
    }
}

/* Card numbers: digit runs starting at a word boundary, in groups joined
 * by single spaces or dashes ("4111 1111 1111 1111"); a candidate is a
 * sequence of whole groups of 13–19 digits that ends at a word boundary.
 * Words are skipped whole; the last CARD_DIGITS_MAX groups of a run are
 * kept, so each group is looked at a bounded number of times. */
static void pass_cards(struct pass *p)
{
    size_t i = 0;
    while (i < p->n && !p->err) {
        uint8_t t = p->text[(unsigned char)p->s[i]];
        if (!(t & TEXT_WORD)) {
            i++;
        } else if (t & TEXT_DIGIT) {
            i = card_run(p, i);
        } else {
            while (i < p->n && is(p, p->s[i], TEXT_WORD))
                i++;
        }
    }
}

int scrub_text(const struct scrub_rules *r, const char *s, size_t n, unsigned passes, char **out)
{
    /* Each pass reads the previous one's result; "[Filtered]" holds
     * nothing a later pass matches. */
    char *cur = (char *)s;
    size_t len = n;
    bool owned = false;
    int rc = 0;
    for (unsigned step = SCRUB_PASS_URL; step <= SCRUB_PASS_CARD; step <<= 1) {
        if (!(passes & step)) continue;
        struct pass p = {.text = r->text, .s = cur, .n = len};
        if (step == SCRUB_PASS_URL)
            pass_url_credentials(&p);
        else if (step == SCRUB_PASS_KV)
            pass_key_values(r, &p);
        else
            pass_cards(&p);
        int got = finish(&p, &cur, &len, owned);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 1) owned = true;
    }
    if (rc < 0 || !owned) {
        if (owned) free(cur);
        return rc;
    }
    *out = cur;
    return 1;
}
