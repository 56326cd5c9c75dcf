/* lua/grouping_memo — the key: a seeded XXH3-128 digest of the grouping
 * input, computed in a state on the caller's stack so that any number of
 * threads key at once. */
#include "lua/grouping_memo.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <openssl/rand.h>
/* Inlined: the state lives on the stack, which needs its full type (only
 * stable within one xxhash version, so not from the shared library). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lua/event_table.h"
#include "lua/event_walk.h"

#define BUF_BYTES 1024

struct digest {
    XXH3_state_t state;
    size_t n; /* bytes in buf */
    unsigned char buf[BUF_BYTES];
};

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1)
        seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
}

/* The digest sink: bytes are gathered in buf and handed to XXH3 in
 * blocks. Every value starts with a tag; strings and keys carry their
 * length, containers end with 'e': the encoding is prefix-free. */
static void feed(struct digest *d, const void *p, size_t len)
{
    if (d->n + len > BUF_BYTES) {
        XXH3_128bits_update(&d->state, d->buf, d->n);
        d->n = 0;
        if (len > BUF_BYTES) {
            XXH3_128bits_update(&d->state, p, len);
            return;
        }
    }
    memcpy(d->buf + d->n, p, len);
    d->n += len;
}

static void feed_string(struct digest *d, char tag, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    unsigned char head[1 + sizeof len];
    head[0] = (unsigned char)tag;
    memcpy(head + 1, &len, sizeof len);
    feed(d, head, sizeof head);
    if (len) feed(d, s, len);
}

static void feed_tag(struct digest *d, char tag)
{
    feed(d, &tag, 1);
}

static void digest_scalar(void *ctx, const cJSON *item)
{
    struct digest *d = ctx;
    switch (item->type & 0xff) {
    case cJSON_False:
        feed_tag(d, 'f');
        break;
    case cJSON_True:
        feed_tag(d, 't');
        break;
    case cJSON_NULL:
        feed_tag(d, 'z');
        break;
    case cJSON_Number: {
        unsigned char b[1 + sizeof(double)];
        b[0] = 'n';
        memcpy(b + 1, &item->valuedouble, sizeof(double));
        feed(d, b, sizeof b);
        break;
    }
    default:
        feed_string(d, 's', item->valuestring);
        break;
    }
}

static void digest_open(void *ctx, const cJSON *item, int is_array)
{
    (void)item;
    feed_tag(ctx, is_array ? 'a' : 'o');
}

static void digest_close(void *ctx)
{
    feed_tag(ctx, 'e');
}

static void digest_member(void *ctx, const char *key)
{
    feed_string(ctx, 'k', key);
}

static void digest_element(void *ctx, long i)
{
    (void)ctx;
    (void)i; /* the position is implied by the order */
}

static void digest_nul(void *ctx)
{
    feed_tag(ctx, 'z'); /* Lua sees the same null as for a JSON null */
}

static const struct event_sink DIGEST_SINK = {
    digest_scalar, digest_open, digest_close, digest_member, digest_element, digest_nul,
};

void grouping_memo_key(const struct event_table_args *args, int64_t project_id, uint64_t generation,
                       struct grouping_memo_key *key)
{
    pthread_once(&seed_once, seed_init);
    struct digest d;
    XXH3_128bits_reset_withSeed(&d.state, seed);
    d.n = 0;
    long head[2] = {args->max_depth, args->fields != NULL};
    feed(&d, head, sizeof head);
    event_walk(&DIGEST_SINK, &d, args);
    XXH3_128bits_update(&d.state, d.buf, d.n);
    XXH128_hash_t h = XXH3_128bits_digest(&d.state);
    *key = (struct grouping_memo_key){
        .project_id = project_id, .generation = generation, .lo = h.low64, .hi = h.high64};
}
