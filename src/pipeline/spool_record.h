/* spool_record — one grouped event as the bytes of a spool record body
 * (spool.h), and back. Little-endian integers; strings and blobs as a
 * 32-bit length then the bytes (0xFFFFFFFF: NULL). Pure functions. */
#ifndef PERISCOPE_SPOOL_RECORD_H
#define PERISCOPE_SPOOL_RECORD_H

#include <stddef.h>

struct grouped_event;

struct spool_buf {
    unsigned char *p; /* owned by whoever filled it: free() */
    size_t len, cap;
};

/* Room for extra more bytes. 0 or -ENOMEM. */
int spool_buf_reserve(struct spool_buf *b, size_t extra);
/* Appends what the writer stores of ev. 0 or -ENOMEM. */
int spool_record_encode(struct spool_buf *b, const struct grouped_event *ev);
/* A new event from a body (caller frees with grouped_event_free). 0, -EBADMSG for
 * a body that does not decode, -ENOMEM. */
int spool_record_decode(const unsigned char *p, size_t len, struct grouped_event **out);

#endif
