#include "notify/throttle.h"

#include <stdlib.h>

struct window {
    int64_t destination_id;
    long long start_ms;
    int used;
};

struct throttle {
    int rate;
    long long window_ms;
    struct window *w;
    size_t n, cap;
};

struct throttle *throttle_new(int rate_per_window, long long window_ms)
{
    struct throttle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->rate = rate_per_window;
    t->window_ms = window_ms > 0 ? window_ms : THROTTLE_WINDOW_MS;
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t) return;
    free(t->w);
    free(t);
}

/* The destination's window, a reused ended one, or a new slot; NULL on OOM. */
static struct window *window_for(struct throttle *t, int64_t id, long long now)
{
    struct window *ended = NULL, *oldest = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct window *w = &t->w[i];
        if (w->destination_id == id) return w;
        if (!ended && now >= w->start_ms + t->window_ms) ended = w;
        if (!oldest || w->start_ms < oldest->start_ms) oldest = w;
    }
    struct window *slot = ended;
    if (!slot && t->n < t->cap) slot = &t->w[t->n++];
    if (!slot && t->n < THROTTLE_MAX_TRACKED) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct window *grown = realloc(t->w, cap * sizeof *grown);
        if (!grown) return NULL;
        t->w = grown;
        t->cap = cap;
        slot = &t->w[t->n++];
    }
    if (!slot) slot = oldest;
    slot->destination_id = id;
    slot->start_ms = now;
    slot->used = 0;
    return slot;
}

long long throttle_take(struct throttle *t, int64_t destination_id, long long now_ms)
{
    if (t->rate <= 0) return 0;
    struct window *w = window_for(t, destination_id, now_ms);
    if (!w) return 0; /* out of memory: never hold a notification back for that */
    if (now_ms >= w->start_ms + t->window_ms) {
        w->start_ms = now_ms;
        w->used = 0;
    }
    if (w->used < t->rate) {
        w->used++;
        return 0;
    }
    return w->start_ms + t->window_ms;
}
