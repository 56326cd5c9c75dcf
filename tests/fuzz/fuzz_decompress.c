/* libFuzzer target: every decoder, fed in chunks of fuzzer-chosen sizes,
 * and the Raven base64 form. Byte 0 picks the encoding, byte 1 the chunk
 * size; the rest is the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "ingest/decompress.h"

#define FUZZ_MAX_OUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    enum decomp_encoding enc = (enum decomp_encoding)(data[0] % 6);
    size_t chunk = (size_t)data[1] * 16 + 1;
    data += 2;
    size -= 2;
    if (enc == 5) {
        char *out;
        size_t n;
        if (decomp_raven((const char *)data, size, FUZZ_MAX_OUT, &out, &n) == 0) free(out);
        return 0;
    }
    struct decomp *d;
    if (decomp_new(enc, FUZZ_MAX_OUT, &d) != 0) return 0;
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = decomp_feed(d, data + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) rc = decomp_finish(d);
    size_t n;
    decomp_data(d, &n);
    if (n > FUZZ_MAX_OUT + 1) abort();
    decomp_free(d);
    return 0;
}
