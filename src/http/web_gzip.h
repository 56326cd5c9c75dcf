/* web_gzip — one buffer gzip-compressed at the best level (zlib), for the
 * web files' compressed copies. Any thread. */
#ifndef PERISCOPE_HTTP_WEB_GZIP_H
#define PERISCOPE_HTTP_WEB_GZIP_H

#include <stddef.h>

/* *out: caller frees. 0, or -ENOMEM / -EIO. */
int web_gzip(const unsigned char *in, size_t len, unsigned char **out, size_t *out_len);

#endif
