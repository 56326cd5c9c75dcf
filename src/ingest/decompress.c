/* decompress — streaming decoders with a running output cap (decompress.h). */
#include "ingest/decompress.h"

#include <assert.h>
#include <brotli/decode.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include "base/membudget.h"

#define DECOMP_INITIAL_BYTES (64 * 1024)
/* zstd frames may ask for a window of up to 2 GiB; 16 MiB covers every
 * level a client uses for a request body and bounds memory per request. */
#define DECOMP_ZSTD_WINDOW_LOG_MAX 24

struct decomp {
    enum decomp_encoding enc;
    size_t max_out;
    char *buf; /* capacity cap, at most max_out + 1 (one byte to detect overflow + NUL) */
    size_t len, cap;
    int error;
    bool ended;            /* the current stream/frame is complete */
    bool started;          /* the codec state exists */
    unsigned char head[2]; /* deflate: first bytes held until zlib vs raw is known */
    size_t head_len;
    z_stream z;
    BrotliDecoderState *br;
    ZSTD_DCtx *zstd;
    struct membudget *budget; /* NULL: none; else cap is taken from it */
};

int decomp_encoding_parse(const char *header, enum decomp_encoding *out)
{
    static const struct {
        const char *name;
        enum decomp_encoding enc;
    } names[] = {
        {"identity", DECOMP_IDENTITY}, {"gzip", DECOMP_GZIP}, {"x-gzip", DECOMP_GZIP},
        {"deflate", DECOMP_DEFLATE},   {"br", DECOMP_BR},     {"zstd", DECOMP_ZSTD},
    };
    if (!header) {
        *out = DECOMP_IDENTITY;
        return 0;
    }
    while (*header == ' ' || *header == '\t')
        header++;
    size_t n = strlen(header);
    while (n > 0 && (header[n - 1] == ' ' || header[n - 1] == '\t'))
        n--;
    if (n == 0) {
        *out = DECOMP_IDENTITY;
        return 0;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == n && strncasecmp(header, names[i].name, n) == 0) {
            *out = names[i].enc;
            return 0;
        }
    }
    return -ENOTSUP;
}

int decomp_new(enum decomp_encoding enc, size_t max_out, struct decomp **out)
{
    struct decomp *d = calloc(1, sizeof(*d));
    if (!d) return -ENOMEM;
    d->enc = enc;
    d->max_out = max_out;
    *out = d;
    return 0;
}

void decomp_free(struct decomp *d)
{
    if (!d) return;
    if (d->started && (d->enc == DECOMP_GZIP || d->enc == DECOMP_DEFLATE)) inflateEnd(&d->z);
    if (d->br) BrotliDecoderDestroyInstance(d->br);
    ZSTD_freeDCtx(d->zstd);
    free(d->buf);
    if (d->budget) membudget_give(d->budget, d->cap);
    free(d);
}

void decomp_set_budget(struct decomp *d, struct membudget *b)
{
    assert(d->cap == 0 && !d->budget);
    d->budget = b;
}

size_t decomp_held(const struct decomp *d)
{
    return d->cap;
}

/* Makes room for at least one more output byte; -E2BIG once the output is
 * past the cap (the buffer never grows beyond max_out + 1). */
static int ensure_room(struct decomp *d)
{
    if (d->len > d->max_out) return -E2BIG;
    if (d->len < d->cap) return 0;
    size_t limit = d->max_out + 1;
    size_t ncap = d->cap ? d->cap * 2 : DECOMP_INITIAL_BYTES;
    if (ncap > limit || ncap < d->cap) ncap = limit;
    /* realloc may copy into a new block before freeing the old one: both
     * are counted while it runs. */
    if (d->budget && ncap > d->budget->limit - d->cap) {
        /* More than the whole budget: this body can never be held. */
        if (d->budget->limit - d->cap <= d->cap) return -E2BIG;
        ncap = d->budget->limit - d->cap;
    }
    if (d->budget && membudget_take(d->budget, ncap) != 0) return -EAGAIN;
    char *nbuf = realloc(d->buf, ncap + 1); /* + 1: the NUL of decomp_data */
    if (d->budget) membudget_give(d->budget, nbuf ? d->cap : ncap);
    if (!nbuf) return -ENOMEM;
    d->buf = nbuf;
    d->cap = ncap;
    return 0;
}

static int feed_identity(struct decomp *d, const unsigned char *in, size_t len)
{
    while (len > 0) {
        int rc = ensure_room(d);
        if (rc) return rc;
        size_t n = d->cap - d->len < len ? d->cap - d->len : len;
        memcpy(d->buf + d->len, in, n);
        d->len += n;
        in += n;
        len -= n;
    }
    return d->len > d->max_out ? -E2BIG : 0;
}

static int zlib_start(struct decomp *d, int window_bits)
{
    memset(&d->z, 0, sizeof(d->z));
    if (inflateInit2(&d->z, window_bits) != Z_OK) return -ENOMEM;
    d->started = true;
    return 0;
}

static int feed_zlib(struct decomp *d, const unsigned char *in, size_t len)
{
    /* zlib counts in uInt; feed in slices so huge inputs cannot wrap. */
    do {
        uInt slice = len > (1u << 30) ? (1u << 30) : (uInt)len;
        d->z.next_in = (Bytef *)in;
        d->z.avail_in = slice;
        for (;;) {
            if (d->ended) {
                if (d->z.avail_in == 0) break;
                /* Data after the end: a next gzip member, else garbage. */
                if (d->enc != DECOMP_GZIP || inflateReset(&d->z) != Z_OK) return -EBADMSG;
                d->ended = false;
            }
            int rc = ensure_room(d);
            if (rc) return rc;
            size_t room = d->cap - d->len;
            d->z.next_out = (Bytef *)d->buf + d->len;
            d->z.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
            uInt before = d->z.avail_out;
            int zr = inflate(&d->z, Z_NO_FLUSH);
            d->len += before - d->z.avail_out;
            if (zr == Z_STREAM_END) {
                d->ended = true;
                continue;
            }
            if (zr == Z_BUF_ERROR) break; /* no progress possible: needs more input */
            if (zr != Z_OK) return zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
            /* All input used and room left over: nothing is held back. */
            if (d->z.avail_in == 0 && d->z.avail_out > 0) break;
        }
        in += slice;
        len -= slice;
    } while (len > 0);
    return d->len > d->max_out ? -E2BIG : 0;
}

/* deflate is zlib-wrapped (RFC 1950) from most clients, raw (RFC 1951) from
 * a few: the first two bytes tell (CM = 8 and the header checksum). */
static int feed_deflate(struct decomp *d, const unsigned char *in, size_t len)
{
    if (!d->started) {
        while (d->head_len < 2 && len > 0) {
            d->head[d->head_len++] = *in++;
            len--;
        }
        if (d->head_len < 2) return 0;
        unsigned h = (unsigned)d->head[0] << 8 | d->head[1];
        bool zlib_wrapped = (d->head[0] & 0x0f) == 8 && h % 31 == 0;
        int rc = zlib_start(d, zlib_wrapped ? 15 : -15);
        if (rc == 0) rc = feed_zlib(d, d->head, 2);
        if (rc) return rc;
    }
    return feed_zlib(d, in, len);
}

static int feed_brotli(struct decomp *d, const unsigned char *in, size_t len)
{
    if (!d->br && !(d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL))) return -ENOMEM;
    size_t avail_in = len;
    const uint8_t *next_in = in;
    for (;;) {
        if (d->ended) return avail_in > 0 ? -EBADMSG : d->len > d->max_out ? -E2BIG : 0;
        int rc = ensure_room(d);
        if (rc) return rc;
        size_t avail_out = d->cap - d->len;
        uint8_t *next_out = (uint8_t *)d->buf + d->len;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        d->len = (size_t)((char *)next_out - d->buf);
        if (r == BROTLI_DECODER_RESULT_SUCCESS)
            d->ended = true;
        else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
            return d->len > d->max_out ? -E2BIG : 0;
        else if (r == BROTLI_DECODER_RESULT_ERROR)
            return -EBADMSG;
    }
}

static int feed_zstd(struct decomp *d, const unsigned char *in, size_t len)
{
    if (!d->zstd) {
        if (!(d->zstd = ZSTD_createDCtx())) return -ENOMEM;
        ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax, DECOMP_ZSTD_WINDOW_LOG_MAX);
        d->ended = true; /* no frame open yet; empty input is an empty body */
        d->started = true;
    }
    ZSTD_inBuffer ib = {in, len, 0};
    for (;;) {
        int rc = ensure_room(d);
        if (rc) return rc;
        ZSTD_outBuffer ob = {d->buf + d->len, d->cap - d->len, 0};
        size_t r = ZSTD_decompressStream(d->zstd, &ob, &ib);
        d->len += ob.pos;
        if (ZSTD_isError(r)) return -EBADMSG;
        d->ended = r == 0;
        /* Done when all input is consumed and the output was not full (so
         * the decoder holds nothing back). */
        if (ib.pos == ib.size && ob.pos < ob.size) return d->len > d->max_out ? -E2BIG : 0;
    }
}

int decomp_feed(struct decomp *d, const void *in, size_t len)
{
    int rc;
    if (d->error) return d->error;
    switch (d->enc) {
    case DECOMP_IDENTITY:
        rc = feed_identity(d, in, len);
        break;
    case DECOMP_GZIP:
        rc = d->started ? 0 : zlib_start(d, 15 + 16);
        if (rc == 0) rc = feed_zlib(d, in, len);
        break;
    case DECOMP_DEFLATE:
        rc = feed_deflate(d, in, len);
        break;
    case DECOMP_BR:
        rc = feed_brotli(d, in, len);
        break;
    case DECOMP_ZSTD:
        rc = feed_zstd(d, in, len);
        break;
    default:
        rc = -ENOTSUP;
        break;
    }
    d->error = rc;
    return rc;
}

int decomp_finish(struct decomp *d)
{
    if (d->error) return d->error;
    if (d->enc == DECOMP_IDENTITY) return 0;
    if (d->enc == DECOMP_ZSTD && !d->started) return 0; /* empty body */
    if (!d->ended) d->error = -EBADMSG;
    return d->error;
}

const char *decomp_data(const struct decomp *d, size_t *len)
{
    *len = d->len;
    if (!d->buf) return "";
    d->buf[d->len] = '\0';
    return d->buf;
}

char *decomp_take(struct decomp *d, size_t *len)
{
    assert(!d->budget); /* the budget would lose track of the buffer */
    char *b = d->buf;
    *len = d->len;
    if (b) b[d->len] = '\0';
    d->buf = NULL;
    d->len = d->cap = 0;
    return b;
}

int decomp_all(enum decomp_encoding enc, const void *in, size_t len, size_t max_out, char **out,
               size_t *out_len)
{
    struct decomp *d;
    int rc = decomp_new(enc, max_out, &d);
    if (rc) return rc;
    rc = decomp_feed(d, in, len);
    if (rc == 0) rc = decomp_finish(d);
    if (rc == 0) {
        *out = decomp_take(d, out_len);
        if (!*out && !(*out = calloc(1, 1))) rc = -ENOMEM;
    }
    decomp_free(d);
    return rc;
}
