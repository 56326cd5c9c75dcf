/* reply — answers on a libmicrohttpd connection (contract in reply.h). */
#include "http/reply.h"

#include <stdlib.h>
#include <string.h>

static enum MHD_Result send_buffer(struct MHD_Connection *conn, unsigned status, char *buf,
                                   size_t len, const char *content_type,
                                   const struct reply_header *extra)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(buf);
        return MHD_NO;
    }
    if (content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (extra && extra->name) MHD_add_response_header(r, extra->name, extra->value);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result internal_error(struct MHD_Connection *conn)
{
    static const char body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    char *copy = strdup(body);
    if (!copy) return MHD_NO;
    return send_buffer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, copy, strlen(copy), "application/json",
                       NULL);
}

enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, cJSON *json,
                           const struct reply_header *extra)
{
    if (status == MHD_HTTP_NO_CONTENT) {
        cJSON_Delete(json);
        return send_buffer(conn, status, NULL, 0, NULL, extra);
    }
    char *text = json ? json_print(json, 0) : NULL;
    cJSON_Delete(json);
    if (!text) return internal_error(conn);
    return send_buffer(conn, status, text, strlen(text), "application/json", extra);
}

enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, char *text,
                           const char *content_type)
{
    if (!text) return internal_error(conn);
    return send_buffer(conn, status, text, strlen(text),
                       content_type ? content_type : "text/plain; charset=utf-8", NULL);
}

enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
                            const char *message, const struct reply_header *extra)
{
    cJSON *j = json_build("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    return reply_json(conn, status, j, extra);
}
