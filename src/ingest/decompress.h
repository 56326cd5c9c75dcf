/* decompress — streaming decoders for request bodies (Content-Encoding
 * identity, gzip, x-gzip, deflate (zlib or raw), br, zstd) with a running
 * cap on the decoded size, and the legacy Raven body form (base64 of
 * zlib-deflated JSON).
 *
 * One struct decomp per request, used by one thread at a time (the MHD
 * thread that reads the upload). It owns the decoded buffer until
 * decomp_take hands it over. It never allocates more than max_out + 1 bytes
 * of output, whatever the input claims: a bomb stops at the cap.
 *
 * Errors: -E2BIG the decoded size passed max_out (→ 413), -EBADMSG corrupt
 * or truncated stream (→ 400), -ENOTSUP unknown encoding (→ 415), -ENOMEM,
 * -EAGAIN the memory budget (decomp_set_budget) refused more room. */
#ifndef PERISCOPE_DECOMPRESS_H
#define PERISCOPE_DECOMPRESS_H

#include <stddef.h>

enum decomp_encoding {
    DECOMP_IDENTITY,
    DECOMP_GZIP,    /* gzip, x-gzip; concatenated members allowed */
    DECOMP_DEFLATE, /* zlib-wrapped or raw deflate, told apart by the header */
    DECOMP_BR,
    DECOMP_ZSTD,
};

struct decomp;

/* Parses a Content-Encoding header value (NULL or empty: identity; case and
 * surrounding whitespace ignored). 0 or -ENOTSUP. */
int decomp_encoding_parse(const char *header, enum decomp_encoding *out);

/* Starts a decoder whose output may not exceed max_out bytes. 0 or -ENOMEM. */
int decomp_new(enum decomp_encoding enc, size_t max_out, struct decomp **out);
void decomp_free(struct decomp *d);

struct membudget;
/* Takes every byte of output room from b before allocating it, and gives
 * it back at decomp_free (b is borrowed and must outlive d). Call before
 * the first feed. A budgeted decoder's buffer cannot be handed over
 * (decomp_take). */
void decomp_set_budget(struct decomp *d, struct membudget *b);

/* Bytes of output room the decoder holds now (what it took from its budget). */
size_t decomp_held(const struct decomp *d);

/* Decodes the next len input bytes, appending to the output. 0 or an error
 * (see above); after an error the decoder only accepts decomp_free. */
int decomp_feed(struct decomp *d, const void *in, size_t len);

/* End of input: 0, or -EBADMSG when the stream stopped mid-way. */
int decomp_finish(struct decomp *d);

/* The decoded bytes so far (borrowed; NUL-terminated for convenience). */
const char *decomp_data(const struct decomp *d, size_t *len);

/* Hands the decoded buffer (NUL-terminated, caller frees) to the caller and
 * empties the decoder. NULL with *len 0 when nothing was decoded. */
char *decomp_take(struct decomp *d, size_t *len);

/* One-shot: the whole of in through a decoder of enc. *out is caller-owned
 * (NUL-terminated). */
int decomp_all(enum decomp_encoding enc, const void *in, size_t len, size_t max_out, char **out,
               size_t *out_len);

/* Legacy Raven /store/ body: base64 (standard or URL-safe alphabet, padding
 * optional, whitespace ignored) of zlib- or raw-deflated JSON. Decoded size
 * capped at max_out. -EBADMSG when it is not valid base64 or not deflate
 * data. *out is caller-owned (NUL-terminated). */
int decomp_raven(const char *in, size_t len, size_t max_out, char **out, size_t *out_len);

#endif
