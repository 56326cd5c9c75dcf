/* secretbox — sealing secrets at rest (destination settings: webhook URLs
 * and headers, signing secrets, SMTP passwords) with AES-256-GCM under the
 * key of SECRETS_KEY or $DATA_DIR/secret.key (config.h).
 *
 * A sealed text is "sealed:v1:" and the base64 of a random 12-byte nonce,
 * the ciphertext and the 16-byte tag: it cannot be read or changed without
 * the key. Text without the prefix is plaintext (stored before a key was
 * set, or with none): it is read as it is, so turning the feature on never
 * breaks existing rows.
 *
 * Pure functions, any thread. Never logs what it seals or opens. */
#ifndef PERISCOPE_SECRETBOX_H
#define PERISCOPE_SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SECRETBOX_KEY_BYTES 32
#define SECRETBOX_PREFIX "sealed:v1:"

/* 64 hex digits (surrounding whitespace ignored) → key: 0 or -EINVAL. */
int secretbox_key_parse(const char *hex, unsigned char key[SECRETBOX_KEY_BYTES]);

/* True when text is a sealed text (by its prefix). */
bool secretbox_is_sealed(const char *text);

/* Seals plain[0..len): *out is the sealed text (NUL-terminated, caller
 * frees). 0, -ENOMEM, or -EIO (the cipher failed). */
int secretbox_seal(const unsigned char key[SECRETBOX_KEY_BYTES], const char *plain, size_t len,
                   char **out);

/* Opens a sealed text: *out the plaintext (NUL-terminated, caller frees),
 * *out_len its length. -ENOKEY when key is NULL, -EBADMSG when the text is
 * not sealed, is corrupt or was sealed with another key, -ENOMEM. */
int secretbox_open(const unsigned char *key, const char *text, char **out, size_t *out_len);

#endif
