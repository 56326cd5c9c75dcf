/* lua/event_walk — the one traversal of an event's cJSON tree that decides
 * what Lua sees of it: which top-level keys, which keys are skipped below
 * the top, where nesting stops. Two sinks follow it: event_table.c (build
 * the Lua table) and grouping_memo_key.c (feed the memo's digest), so the
 * digest covers, by construction, exactly what the grouping can read.
 *
 * In the grouping mode (fields given) a narrowed top-level object keeps
 * only its listed members (event_table_grouping_narrow).
 *
 * Events, in order: a scalar or an opened container is a value; an
 * object's member is reported after its value (member), an array element
 * after its value (element); a container too deep is no value at all (an
 * object drops the key, an array reports nul for it). Sinks may raise (a
 * Lua error unwinds through the walker, which holds nothing).
 *
 * Defined static in this header so each sink's walk is specialized by the
 * compiler (the sink is a constant there); the tree is borrowed. */
#ifndef PERISCOPE_LUA_EVENT_WALK_H
#define PERISCOPE_LUA_EVENT_WALK_H

#include <string.h>
#include <cjson/cJSON.h>

#include "lua/event_table.h"

struct event_sink {
    void (*scalar)(void *ctx, const cJSON *item); /* false, true, null, number, string */
    void (*open)(void *ctx, const cJSON *item, int is_array); /* item NULL: an empty object */
    void (*close)(void *ctx);
    void (*member)(void *ctx, const char *key); /* the value just given is t[key] */
    void (*element)(void *ctx, long i);         /* the value just given is t[i] (from 1) */
    void (*nul)(void *ctx);                     /* an array slot left out: null */
};

/* Called for every key of the event: the first byte rules out most names
 * before strcmp runs. */
static inline int event_walk_listed(const char *const *list, const char *key)
{
    for (; list && *list; list++)
        if ((*list)[0] == key[0] && strcmp(*list, key) == 0) return 1;
    return 0;
}

/* Gives item and returns 1, or gives nothing and returns 0 (a container
 * too deep, or an invalid node). */
static int event_walk_value(const struct event_sink *sink, void *ctx, const cJSON *item, int depth,
                            int max_depth, const char *const *skip)
{
    switch (item->type & 0xff) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
    case cJSON_Number:
    case cJSON_String:
    case cJSON_Raw:
        sink->scalar(ctx, item);
        return 1;
    case cJSON_Array: {
        if (depth >= max_depth) return 0;
        sink->open(ctx, item, 1);
        long i = 0;
        for (const cJSON *c = item->child; c; c = c->next) {
            if (!event_walk_value(sink, ctx, c, depth + 1, max_depth, skip)) sink->nul(ctx);
            sink->element(ctx, ++i);
        }
        sink->close(ctx);
        return 1;
    }
    case cJSON_Object:
        if (depth >= max_depth) return 0;
        sink->open(ctx, item, 0);
        for (const cJSON *c = item->child; c; c = c->next) {
            if (c->string && !event_walk_listed(skip, c->string) &&
                event_walk_value(sink, ctx, c, depth + 1, max_depth, skip))
                sink->member(ctx, c->string);
        }
        sink->close(ctx);
        return 1;
    default:
        return 0;
    }
}

/* Gives a top-level member (depth 1) that args->narrow may cut down to
 * some of its members; returns 1, or 0 when nothing was given. */
static inline int event_walk_top(const struct event_sink *sink, void *ctx, const cJSON *item,
                                 const struct event_table_args *args)
{
    const struct event_table_narrow *n = args->narrow;
    while (n && n->field && strcmp(n->field, item->string) != 0)
        n++;
    if (!n || !n->field || !cJSON_IsObject(item))
        return event_walk_value(sink, ctx, item, 1, args->max_depth + 1, args->skip_keys);
    if (1 >= args->max_depth + 1) return 0;
    sink->open(ctx, item, 0);
    for (const cJSON *c = item->child; c; c = c->next) {
        if (c->string && event_walk_listed(n->keep, c->string) &&
            event_walk_value(sink, ctx, c, 2, args->max_depth + 1, args->skip_keys))
            sink->member(ctx, c->string);
    }
    sink->close(ctx);
    return 1;
}

/* The whole event as args select it: always exactly one value (an object). */
static inline void event_walk(const struct event_sink *sink, void *ctx,
                              const struct event_table_args *args)
{
    const cJSON *ev = args->event;
    if (!cJSON_IsObject(ev)) {
        sink->open(ctx, NULL, 0);
        sink->close(ctx);
        return;
    }
    if (!args->fields) {
        if (!event_walk_value(sink, ctx, ev, 0, args->max_depth + 1, args->skip_keys)) {
            sink->open(ctx, NULL, 0);
            sink->close(ctx);
        }
        return;
    }
    sink->open(ctx, ev, 0);
    for (const cJSON *c = ev->child; c; c = c->next) {
        if (c->string && event_walk_listed(args->fields, c->string) &&
            event_walk_top(sink, ctx, c, args))
            sink->member(ctx, c->string);
    }
    sink->close(ctx);
}

#endif
