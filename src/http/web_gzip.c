/* web_gzip — gzip of one buffer (contract in web_gzip.h). */
#include "http/web_gzip.h"

#include <errno.h>
#include <stdlib.h>

#include <zlib.h>

int web_gzip(const unsigned char *in, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream z = {0};
    /* 15 + 16: a gzip header and trailer, not zlib's */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -EIO;
    }
    *out = buf;
    return 0;
}
