/* notify/channel_email — the SMTP side of channel.h, and the address and
 * subject checks the admin API shares. Pure helpers; thread-safe. */
#ifndef PERISCOPE_NOTIFY_CHANNEL_EMAIL_H
#define PERISCOPE_NOTIFY_CHANNEL_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include "base/json.h"

struct channel_xfer;

/* A bare address (local@domain) with nothing that could break out of an
 * SMTP command or a header. */
bool channel_email_address_ok(const char *address);

/* The Subject header value: line breaks become spaces; non-ASCII text is
 * RFC 2047 base64 encoded words. 0 or -ENOSPC. */
int channel_email_subject(const char *subject, char *out, size_t len);

/* text with every line break (LF, CR or CRLF) as CRLF, as SMTP and
 * RFC 2045 want it: libcurl's quoted-printable encoder would send a bare LF
 * as "=0A". Caller frees; NULL on allocation failure. */
char *channel_email_crlf(const char *text);

/* Sets up x (easy handle ready, msg subject/text/html set) to send the
 * mail config describes. 0, or negative with the reason in err. */
int channel_email_prepare(struct channel_xfer *x, const cJSON *config, const char *message_id,
                          long long now_ms, char *err, size_t errlen);

#endif
