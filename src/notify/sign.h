/* sign — Standard Webhooks signatures (https://www.standardwebhooks.com):
 * webhook-signature: "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">".
 *
 * The key is the secret's bytes, or — for a secret written "whsec_<base64>",
 * the convention of the spec's libraries — the base64-decoded rest.
 * Pure and thread-safe. */
#ifndef PERISCOPE_NOTIFY_SIGN_H
#define PERISCOPE_NOTIFY_SIGN_H

#include <stddef.h>

/* "v1," + base64 of 32 bytes + NUL */
#define SIGN_HEADER_MAX 64

/* Writes the header value into out (at least SIGN_HEADER_MAX bytes).
 * Returns 0, or -EINVAL for an empty secret or a whsec_ secret that is not
 * valid base64. */
int sign_webhook(const char *secret, const char *msg_id, long long timestamp_s, const char *body,
                 size_t body_len, char out[SIGN_HEADER_MAX]);

#endif
