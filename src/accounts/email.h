/* email — an account's email as stored and compared: trimmed, lower-cased
 * (ASCII; emails are unique case-insensitively), 3..254 bytes, one '@'
 * with text on both sides, no spaces or control characters.
 *
 * Pure; any thread. */
#ifndef PERISCOPE_ACCOUNTS_EMAIL_H
#define PERISCOPE_ACCOUNTS_EMAIL_H

#define EMAIL_MAX 254

/* 0 with the normal form in out, or -EINVAL. */
int email_normalize(const char *in, char out[EMAIL_MAX + 1]);

#endif
