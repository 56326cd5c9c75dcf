/* grouping/parameterize_date — the <date> alternatives of Sentry's
 * parameterization, tried in Sentry's order at one position. Forms that an
 * earlier alternative always pre-empts at the same position (bare
 * hh:mm:ss, and the old ISO forms the RFC 3339 and date-only forms cover)
 * are left out: they can never be the first match. */
#include "grouping/scan.h"

static const char *const DAYS3[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", NULL};
static const char *const DAYS[] = {"Sunday",   "Monday", "Tuesday",  "Wednesday",
                                   "Thursday", "Friday", "Saturday", NULL};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                     "Aug", "Sep", "Oct", "Nov", "Dec", NULL};

static size_t word_of(const struct scan *sc, size_t i, const char *const *words)
{
    for (const char *const *w = words; *w; w++)
        if (sc_lit(sc, i, *w)) return strlen(*w);
    return 0;
}

/* \s+ (or exactly one \s when one is set); returns length or 0. */
static size_t spaces(const struct scan *sc, size_t i, bool one)
{
    return one ? sc_space(sc_at(sc, i)) : sc_run(sc, i, sc_space, (size_t)-1);
}

/* \d{lo,hi} followed by something that is not a digit. */
static size_t digits_between(const struct scan *sc, size_t i, size_t lo, size_t hi)
{
    size_t k = sc_run(sc, i, sc_digit, hi + 1);
    return k >= lo && k <= hi ? k : 0;
}

/* UT|GMT|(E|C|M|P)(ST|DT)|[A-IK-Z], first alternative wins. */
static size_t zone_name(const struct scan *sc, size_t i)
{
    int c = sc_at(sc, i);
    if (sc_lit(sc, i, "UT")) return 2;
    if (sc_lit(sc, i, "GMT")) return 3;
    if ((c == 'E' || c == 'C' || c == 'M' || c == 'P') &&
        (sc_lit(sc, i + 1, "ST") || sc_lit(sc, i + 1, "DT")))
        return 3;
    return c >= 'A' && c <= 'Z' && c != 'J';
}

/* [-+]\d{2}[0-5]\d | zone_name */
static size_t zone(const struct scan *sc, size_t i)
{
    int c = sc_at(sc, i);
    if ((c == '-' || c == '+') && sc_digits(sc, i + 1, 2) && sc_at(sc, i + 3) >= '0' &&
        sc_at(sc, i + 3) <= '5' && sc_digit(sc_at(sc, i + 4)))
        return 5;
    return zone_name(sc, i);
}

/* RFC 822/1123: Mon, 2 Jan 2006 15:04(:05)? -0700 */
static size_t rfc1123(const struct scan *sc, size_t p)
{
    size_t i = p, k;
    if (!(k = word_of(sc, i, DAYS3)) || sc_at(sc, i + k) != ',' || !sc_space(sc_at(sc, i + k + 1)))
        return 0;
    i += k + 2;
    if (!(k = digits_between(sc, i, 1, 2)) || !sc_space(sc_at(sc, i + k))) return 0;
    i += k + 1;
    if (!(k = word_of(sc, i, MONTHS)) || !sc_space(sc_at(sc, i + k))) return 0;
    i += k + 1;
    if (!(k = digits_between(sc, i, 2, 4)) || !sc_space(sc_at(sc, i + k))) return 0;
    i += k + 1;
    if (!(k = digits_between(sc, i, 1, 2)) || sc_at(sc, i + k) != ':') return 0;
    i += k + 1;
    if (!(k = digits_between(sc, i, 1, 2))) return 0;
    i += k;
    if (sc_at(sc, i) == ':' && (k = digits_between(sc, i + 1, 1, 2)) &&
        sc_space(sc_at(sc, i + 1 + k)))
        i += 1 + k;
    if (!sc_space(sc_at(sc, i)) || !(k = zone(sc, i + 1))) return 0;
    return i + 1 + k - p;
}

/* ((Day)\s)?(Mon)\s[0-3]\d,\s\d{2,4} */
static size_t month_day_year(const struct scan *sc, size_t p)
{
    for (int with_day = 1; with_day >= 0; with_day--) {
        size_t i = p, k;
        if (with_day) {
            if (!(k = word_of(sc, i, DAYS3)) || !sc_space(sc_at(sc, i + k))) continue;
            i += k + 1;
        }
        if (!(k = word_of(sc, i, MONTHS)) || !sc_space(sc_at(sc, i + k))) continue;
        i += k + 1;
        if (!(sc_at(sc, i) >= '0' && sc_at(sc, i) <= '3') || !sc_digit(sc_at(sc, i + 1)) ||
            sc_at(sc, i + 2) != ',' || !sc_space(sc_at(sc, i + 3)))
            continue;
        i += 4;
        if ((k = sc_run(sc, i, sc_digit, 4)) < 2) continue;
        return i + k - p;
    }
    return 0;
}

/* RFC 850: Monday, 02-Jan-06 15:04:05 MST */
static size_t rfc850(const struct scan *sc, size_t p)
{
    size_t i = p, k;
    if (!(k = word_of(sc, i, DAYS)) || sc_at(sc, i + k) != ',' || !sc_space(sc_at(sc, i + k + 1)))
        return 0;
    i += k + 2;
    if (!sc_digits(sc, i, 2) || sc_at(sc, i + 2) != '-' || !(k = word_of(sc, i + 3, MONTHS)))
        return 0;
    i += 3 + k;
    if (sc_at(sc, i) != '-' || !sc_digits(sc, i + 1, 2) || !sc_space(sc_at(sc, i + 3))) return 0;
    i += 4;
    if (!sc_digits(sc, i, 2) || sc_at(sc, i + 2) != ':' || !sc_digits(sc, i + 3, 2) ||
        sc_at(sc, i + 5) != ':' || !sc_digits(sc, i + 6, 2) || !sc_space(sc_at(sc, i + 8)))
        return 0;
    i += 9;
    if (!(k = zone_name(sc, i))) return 0;
    return i + k - p;
}

/* \.\d+ when present */
static size_t fraction(const struct scan *sc, size_t i)
{
    size_t k;
    if (sc_at(sc, i) == '.' && (k = sc_run(sc, i + 1, sc_digit, (size_t)-1))) return 1 + k;
    return 0;
}

static bool range_digit(const struct scan *sc, size_t i, char lo, char hi)
{
    int c = sc_at(sc, i);
    return c >= lo && c <= hi;
}

/* RFC 3339: \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?([+-]?\d{2}:\d{2})? */
static size_t rfc3339(const struct scan *sc, size_t p)
{
    size_t i = p;
    if (!sc_digits(sc, i, 4) || sc_at(sc, i + 4) != '-' || !sc_digits(sc, i + 5, 2) ||
        sc_at(sc, i + 7) != '-' || !sc_digits(sc, i + 8, 2) || sc_at(sc, i + 10) != 'T' ||
        !sc_digits(sc, i + 11, 2) || sc_at(sc, i + 13) != ':' || !sc_digits(sc, i + 14, 2) ||
        sc_at(sc, i + 16) != ':' || !sc_digits(sc, i + 17, 2))
        return 0;
    i += 19;
    i += fraction(sc, i);
    if (sc_at(sc, i) == 'Z') i++;
    size_t s = (sc_at(sc, i) == '+' || sc_at(sc, i) == '-') ? 1 : 0;
    if (sc_digits(sc, i + s, 2) && sc_at(sc, i + s + 2) == ':' && sc_digits(sc, i + s + 3, 2))
        i += s + 5;
    return i - p;
}

/* (\d{4}-?[01]\d-?[0-3]\d\s[0-2]\d:[0-5]\d:[0-5]\d)(\.\d+)? */
static size_t datetime_space(const struct scan *sc, size_t p)
{
    size_t i = p;
    if (!sc_digits(sc, i, 4)) return 0;
    i += 4;
    i += sc_at(sc, i) == '-';
    if (!range_digit(sc, i, '0', '1') || !sc_digit(sc_at(sc, i + 1))) return 0;
    i += 2;
    i += sc_at(sc, i) == '-';
    if (!range_digit(sc, i, '0', '3') || !sc_digit(sc_at(sc, i + 1)) || !sc_space(sc_at(sc, i + 2)))
        return 0;
    i += 3;
    if (!range_digit(sc, i, '0', '2') || !sc_digit(sc_at(sc, i + 1)) || sc_at(sc, i + 2) != ':' ||
        !range_digit(sc, i + 3, '0', '5') || !sc_digit(sc_at(sc, i + 4)) ||
        sc_at(sc, i + 5) != ':' || !range_digit(sc, i + 6, '0', '5') || !sc_digit(sc_at(sc, i + 7)))
        return 0;
    i += 8;
    return i + fraction(sc, i) - p;
}

/* Kitchen: \d{1,2}:\d{2}(:\d{2})?(?: [aApP][Mm])? — in Sentry's verbose
 * regex that space is ignored, so the suffix is "PM" directly after. */
static size_t kitchen(const struct scan *sc, size_t p)
{
    size_t i = p, k;
    if (!(k = sc_run(sc, i, sc_digit, 3)) || k > 2 || sc_at(sc, i + k) != ':' ||
        !sc_digits(sc, i + k + 1, 2))
        return 0;
    i += k + 3;
    if (sc_at(sc, i) == ':' && sc_digits(sc, i + 1, 2)) i += 3;
    int a = sc_at(sc, i), m = sc_at(sc, i + 1);
    if ((a == 'a' || a == 'A' || a == 'p' || a == 'P') && (m == 'm' || m == 'M')) i += 2;
    return i - p;
}

/* \d{4}-[01]\d-[0-3]\d */
static size_t date_only(const struct scan *sc, size_t p)
{
    if (sc_digits(sc, p, 4) && sc_at(sc, p + 4) == '-' && range_digit(sc, p + 5, '0', '1') &&
        sc_digit(sc_at(sc, p + 6)) && sc_at(sc, p + 7) == '-' && range_digit(sc, p + 8, '0', '3') &&
        sc_digit(sc_at(sc, p + 9)))
        return 10;
    return 0;
}

/* \b((Day)\s+)?(Mon)\s+\d{1,2}\s+\d\d:\d\d:\d\d\s+\d{4} (ctime) */
static size_t ctime_form(const struct scan *sc, size_t p)
{
    if (!sc_boundary(sc, p)) return 0;
    for (int with_day = 1; with_day >= 0; with_day--) {
        size_t i = p, k, w;
        if (with_day) {
            if (!(k = word_of(sc, i, DAYS3)) || !(w = spaces(sc, i + k, false))) continue;
            i += k + w;
        }
        if (!(k = word_of(sc, i, MONTHS)) || !(w = spaces(sc, i + k, false))) continue;
        i += k + w;
        if (!(k = digits_between(sc, i, 1, 2)) || !(w = spaces(sc, i + k, false))) continue;
        i += k + w;
        if (!sc_digits(sc, i, 2) || sc_at(sc, i + 2) != ':' || !sc_digits(sc, i + 3, 2) ||
            sc_at(sc, i + 5) != ':' || !sc_digits(sc, i + 6, 2) || !(w = spaces(sc, i + 8, false)))
            continue;
        i += 8 + w;
        if (!sc_digits(sc, i, 4)) continue;
        return i + 4 - p;
    }
    return 0;
}

/* Day of month: 0[1-9] | [1-2]?\d | 3[01], followed by \s+ */
static size_t day_of_month(const struct scan *sc, size_t i)
{
    int a = sc_at(sc, i), b = sc_at(sc, i + 1);
    if (!sc_digit(a)) return 0;
    if (sc_digit(b) && ((a == '0' && b != '0') || a == '1' || a == '2' || (a == '3' && b <= '1')))
        return sc_space(sc_at(sc, i + 2)) ? 2 : 0;
    return sc_space(b) ? 1 : 0;
}

/* \b((Day),\s+)?DD\s+Mon\s+YYYY\s+hh:mm(:ss)?\s+zone (RFC 2822) */
static size_t rfc2822(const struct scan *sc, size_t p)
{
    if (!sc_boundary(sc, p)) return 0;
    for (int with_day = 1; with_day >= 0; with_day--) {
        size_t i = p, k, w;
        if (with_day) {
            if (!(k = word_of(sc, i, DAYS3)) || sc_at(sc, i + k) != ',' ||
                !(w = spaces(sc, i + k + 1, false)))
                continue;
            i += k + 1 + w;
        }
        if (!(k = day_of_month(sc, i))) continue;
        i += k + spaces(sc, i + k, false);
        if (!(k = word_of(sc, i, MONTHS)) || !(w = spaces(sc, i + k, false))) continue;
        i += k + w;
        bool year = sc_digits(sc, i, 4) &&
                    ((sc_at(sc, i) == '1' && sc_at(sc, i + 1) == '9') || sc_at(sc, i) >= '2');
        if (!year || !(w = spaces(sc, i + 4, false))) continue;
        i += 4 + w;
        int h = sc_at(sc, i), h2 = sc_at(sc, i + 1);
        if (!((h == '2' && h2 >= '0' && h2 <= '3') || ((h == '0' || h == '1') && sc_digit(h2))) ||
            sc_at(sc, i + 2) != ':' || !range_digit(sc, i + 3, '0', '5') ||
            !sc_digit(sc_at(sc, i + 4)))
            continue;
        i += 5;
        if (sc_at(sc, i) == ':' && (sc_lit(sc, i + 1, "60") || (range_digit(sc, i + 1, '0', '5') &&
                                                                sc_digit(sc_at(sc, i + 2)))))
            i += 3;
        if (!(w = spaces(sc, i, false)) || !(k = zone(sc, i + w))) continue;
        return i + w + k - p;
    }
    return 0;
}

/* datetime.datetime\(.*?\) — Python reprs; '.' is any character but \n.
 * The search for the ')' resumes where the last one stopped when it
 * starts inside the stretch that one crossed. */
static size_t python_repr(const struct scan *sc, size_t p)
{
    if (!sc_lit(sc, p, "datetime") || sc_at(sc, p + 8) == '\n' || sc_at(sc, p + 8) < 0) return 0;
    size_t i = p + 8 + sc_char_len(sc, p + 8);
    if (!sc_lit(sc, i, "datetime(")) return 0;
    struct scan_memo *m = sc->memo;
    i += 9;
    if (i < m->repr_from || i > m->repr_stop) {
        m->repr_from = i;
        while (i < sc->n && sc->s[i] != '\n' && sc->s[i] != ')')
            i++;
        m->repr_stop = i;
    }
    i = m->repr_stop;
    return i < sc->n && sc->s[i] == ')' ? i + 1 - p : 0;
}

size_t scan_date(const struct scan *sc, size_t i)
{
    static size_t (*const forms[])(const struct scan *, size_t) = {
        rfc1123, month_day_year, rfc850,     rfc3339, datetime_space,
        kitchen, date_only,      ctime_form, rfc2822, python_repr,
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t k = forms[f](sc, i);
        if (k) return k;
    }
    return 0;
}
