/* compress — zstd level 1 with one context per thread (see compress.h). */
#include "base/compress.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static pthread_key_t cctx_key;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;

static void cctx_destroy(void *p)
{
    ZSTD_freeCCtx(p);
}

static void cctx_key_create(void)
{
    pthread_key_create(&cctx_key, cctx_destroy);
}

static ZSTD_CCtx *thread_cctx(void)
{
    pthread_once(&cctx_once, cctx_key_create);
    ZSTD_CCtx *c = pthread_getspecific(cctx_key);
    if (c) return c;
    c = ZSTD_createCCtx();
    if (!c) return NULL;
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, COMPRESS_LEVEL);
    /* The checksum costs little and lets readers detect a damaged row. */
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    if (pthread_setspecific(cctx_key, c) != 0) {
        ZSTD_freeCCtx(c);
        return NULL;
    }
    return c;
}

int compress_payload(const void *src, size_t len, void **out, size_t *out_len)
{
    ZSTD_CCtx *c = thread_cctx();
    if (!c) return -ENOMEM;
    size_t cap = ZSTD_compressBound(len);
    void *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    size_t n = ZSTD_compress2(c, buf, cap, src, len);
    if (ZSTD_isError(n)) {
        free(buf);
        ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
        return -EIO;
    }
    /* Give back the slack of the bound (a 4 KB event shrinks ~3×). */
    void *shrunk = realloc(buf, n ? n : 1);
    *out = shrunk ? shrunk : buf;
    *out_len = n;
    return 0;
}

void compress_thread_cleanup(void)
{
    pthread_once(&cctx_once, cctx_key_create);
    ZSTD_CCtx *c = pthread_getspecific(cctx_key);
    if (c) {
        pthread_setspecific(cctx_key, NULL);
        ZSTD_freeCCtx(c);
    }
}

/* For frames without a content size (or a lying one): grow up to the cap. */
static int decompress_streaming(ZSTD_DCtx *d, const void *src, size_t len, size_t max_bytes,
                                char **out, size_t *out_len)
{
    size_t cap = 0, used = 0;
    char *buf = NULL;
    ZSTD_inBuffer in = {src, len, 0};
    int rc = -EINVAL;
    for (;;) {
        if (used == cap) {
            if (cap > max_bytes) {
                rc = -E2BIG;
                goto fail;
            }
            cap = cap ? cap * 2 : len * 4 + 64;
            if (cap > max_bytes + 1) cap = max_bytes + 1;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = nb;
        }
        ZSTD_outBuffer o = {buf, cap, used};
        size_t r = ZSTD_decompressStream(d, &o, &in);
        used = o.pos;
        if (ZSTD_isError(r)) goto fail;
        if (r == 0) break;
        if (in.pos == in.size && o.pos < o.size) goto fail; /* truncated frame */
    }
    if (used > max_bytes) {
        rc = -E2BIG;
        goto fail;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return 0;
fail:
    free(buf);
    return rc;
}

int decompress_payload(const void *src, size_t len, size_t max_bytes, char **out, size_t *out_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d) return -ENOMEM;
    int rc = decompress_streaming(d, src, len, max_bytes, out, out_len);
    ZSTD_freeDCtx(d);
    return rc;
}
