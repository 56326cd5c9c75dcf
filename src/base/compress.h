/* compress — the stored payload codec: zstd level 1 (PERFORMANCE.md: 3×
 * cheaper than zlib level 1 at the same ratio).
 *
 * compress_payload reuses one ZSTD_CCtx per calling thread (created on first
 * use, freed by compress_thread_cleanup or at thread exit); any thread may
 * call either function. Never touches the input. */
#ifndef PERISCOPE_COMPRESS_H
#define PERISCOPE_COMPRESS_H

#include <stddef.h>

enum { COMPRESS_LEVEL = 1 };

/* Compresses src into a fresh malloc'd buffer (*out, caller frees) of
 * *out_len bytes. 0 or -ENOMEM / -EIO. */
int compress_payload(const void *src, size_t len, void **out, size_t *out_len);

/* Decompresses a stored payload into a fresh malloc'd, NUL-terminated
 * buffer (caller frees; *out_len excludes the NUL). Refuses to produce more
 * than max_bytes. 0, -EINVAL (not a zstd frame / corrupt), -E2BIG, -ENOMEM. */
int decompress_payload(const void *src, size_t len, size_t max_bytes, char **out, size_t *out_len);

/* Frees the calling thread's compression context now (optional). */
void compress_thread_cleanup(void);

#endif
