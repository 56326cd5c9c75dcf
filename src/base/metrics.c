/* metrics — see metrics.h. One mutex over an open-addressing table of
 * series; rendering sorts by name so each family is printed together. */
#include "base/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_SERIES 4096
#define METRICS_MAX_BOUNDS 16
#define METRICS_MAX_COLLECTORS 32

enum series_type { SERIES_COUNTER, SERIES_GAUGE, SERIES_HISTOGRAM };

struct series {
    char *name;
    char *labels; /* "" when none */
    enum series_type type;
    double value; /* counter/gauge; histogram: sum */
    uint64_t count;
    size_t nbounds;
    double bounds[METRICS_MAX_BOUNDS];
    uint64_t buckets[METRICS_MAX_BOUNDS + 1]; /* per bucket, last is +Inf */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct series *g_table[METRICS_MAX_SERIES];
static size_t g_nseries;
static struct {
    metrics_collector_fn fn;
    void *ctx;
} g_collectors[METRICS_MAX_COLLECTORS];
static size_t g_ncollectors;

static uint64_t hash_key(const char *name, const char *labels)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '{') * 1099511628211ULL;
    for (const char *p = labels; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* Finds or creates the series; NULL when the table is full. Lock held. */
static struct series *lookup(const char *name, const char *labels, enum series_type type)
{
    if (!labels) labels = "";
    size_t i = hash_key(name, labels) % METRICS_MAX_SERIES;
    for (size_t n = 0; n < METRICS_MAX_SERIES; n++, i = (i + 1) % METRICS_MAX_SERIES) {
        struct series *s = g_table[i];
        if (!s) break;
        if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0) return s;
    }
    if (g_nseries >= METRICS_MAX_SERIES * 3 / 4 || g_table[i]) return NULL;
    struct series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = strdup(name);
    s->labels = strdup(labels);
    if (!s->name || !s->labels) {
        free(s->name);
        free(s->labels);
        free(s);
        return NULL;
    }
    s->type = type;
    g_table[i] = s;
    g_nseries++;
    return s;
}

void metrics_add(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&g_lock);
    struct series *s = lookup(name, labels, SERIES_COUNTER);
    if (s) s->value += v;
    pthread_mutex_unlock(&g_lock);
}

void metrics_set(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&g_lock);
    struct series *s = lookup(name, labels, SERIES_GAUGE);
    if (s) s->value = v;
    pthread_mutex_unlock(&g_lock);
}

void metrics_observe(const char *name, const char *labels, double v, const double *bounds,
                     size_t nbounds)
{
    if (nbounds > METRICS_MAX_BOUNDS) nbounds = METRICS_MAX_BOUNDS;
    pthread_mutex_lock(&g_lock);
    struct series *s = lookup(name, labels, SERIES_HISTOGRAM);
    if (s) {
        if (s->count == 0 && s->nbounds == 0) {
            memcpy(s->bounds, bounds, nbounds * sizeof *bounds);
            s->nbounds = nbounds;
        }
        size_t b = 0;
        while (b < s->nbounds && v > s->bounds[b])
            b++;
        s->buckets[b]++;
        s->count++;
        s->value += v;
    }
    pthread_mutex_unlock(&g_lock);
}

void metrics_register_collector(metrics_collector_fn fn, void *ctx)
{
    pthread_mutex_lock(&g_lock);
    if (g_ncollectors < METRICS_MAX_COLLECTORS) {
        g_collectors[g_ncollectors].fn = fn;
        g_collectors[g_ncollectors].ctx = ctx;
        g_ncollectors++;
    }
    pthread_mutex_unlock(&g_lock);
}

static int by_name(const void *a, const void *b)
{
    const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

static const char *type_name(enum series_type t)
{
    return t == SERIES_COUNTER ? "counter" : t == SERIES_GAUGE ? "gauge" : "histogram";
}

/* `name{labels,extra}` with the comma only when both are present. */
static void print_labels(FILE *f, const char *labels, const char *extra)
{
    if (!*labels && !extra) return;
    fprintf(f, "{%s%s%s}", labels, (*labels && extra) ? "," : "", extra ? extra : "");
}

/* The shortest text that reads back as exactly v ("0.05", not
 * "0.050000000000000003"), in Prometheus' spelling of the infinities. */
static void format_number(char *out, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(out, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, len, "%.*g", digits, v);
        if (strtod(out, NULL) == v) return;
    }
}

static void render_series(FILE *f, const struct series *s)
{
    char num[40];
    if (s->type != SERIES_HISTOGRAM) {
        fprintf(f, "%s", s->name);
        print_labels(f, s->labels, NULL);
        format_number(num, sizeof num, s->value);
        fprintf(f, " %s\n", num);
        return;
    }
    uint64_t cumulative = 0;
    char le[64];
    for (size_t b = 0; b <= s->nbounds; b++) {
        cumulative += s->buckets[b];
        format_number(num, sizeof num, b < s->nbounds ? s->bounds[b] : INFINITY);
        snprintf(le, sizeof le, "le=\"%s\"", num);
        fprintf(f, "%s_bucket", s->name);
        print_labels(f, s->labels, le);
        fprintf(f, " %llu\n", (unsigned long long)cumulative);
    }
    fprintf(f, "%s_sum", s->name);
    print_labels(f, s->labels, NULL);
    format_number(num, sizeof num, s->value);
    fprintf(f, " %s\n%s_count", num, s->name);
    print_labels(f, s->labels, NULL);
    fprintf(f, " %llu\n", (unsigned long long)s->count);
}

char *metrics_render(void)
{
    /* Collectors call metrics_set, so they run before the lock is taken. */
    pthread_mutex_lock(&g_lock);
    size_t ncol = g_ncollectors;
    pthread_mutex_unlock(&g_lock);
    for (size_t i = 0; i < ncol; i++)
        g_collectors[i].fn(g_collectors[i].ctx);

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;

    pthread_mutex_lock(&g_lock);
    struct series **all = malloc((g_nseries ? g_nseries : 1) * sizeof *all);
    size_t n = 0;
    if (all) {
        for (size_t i = 0; i < METRICS_MAX_SERIES; i++)
            if (g_table[i]) all[n++] = g_table[i];
        qsort(all, n, sizeof *all, by_name);
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || strcmp(all[i - 1]->name, all[i]->name) != 0) {
                const struct metrics_family *h = metrics_family_find(all[i]->name);
                if (h) fprintf(f, "# HELP %s %s\n", h->name, h->help);
                fprintf(f, "# TYPE %s %s\n", all[i]->name, type_name(all[i]->type));
            }
            render_series(f, all[i]);
        }
        free(all);
    }
    pthread_mutex_unlock(&g_lock);
    if (fclose(f) != 0 || !all) {
        free(out);
        return NULL;
    }
    return out;
}
