/* reply — queue a finished answer on a libmicrohttpd connection: JSON
 * (cJSON, printed by json_print), plain text, or the {"error": {"code", "message"}} shape.
 *
 * Internal to src/http/. Called on MHD threads from an access handler (or a
 * resumed connection). The functions take ownership of what they send. */
#ifndef PERISCOPE_HTTP_REPLY_H
#define PERISCOPE_HTTP_REPLY_H

#include <stddef.h>
#include "base/json.h"
#include <microhttpd.h>

/* One extra response header (name NULL: none). */
struct reply_header {
    const char *name;
    const char *value;
};

/* Sends json (taken; NULL answers 500) with Content-Type application/json.
 * Status 204 sends no body. */
enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, cJSON *json,
                           const struct reply_header *extra);

/* Sends text (taken, malloc'd; NULL answers 500) with content_type
 * (default text/plain; charset=utf-8). */
enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, char *text,
                           const char *content_type);

/* {"error": {"code": code, "message": message}} */
enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
                            const char *message, const struct reply_header *extra);

#endif
