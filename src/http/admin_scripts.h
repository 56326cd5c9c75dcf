/* admin_scripts — /api/admin/projects/{id}/script…: the active script and
 * its live stats, hot reload (PUT), versions, rollback, back to the
 * default rules (DELETE), and the dry run (POST …/script/test, in
 * admin_scripts_test.c). The work is script_ops.h and dryrun.h; these
 * handlers translate HTTP to them and back. */
#ifndef PERISCOPE_HTTP_ADMIN_SCRIPTS_H
#define PERISCOPE_HTTP_ADMIN_SCRIPTS_H

#include <cjson/cJSON.h>
#include "http/admin.h"

extern const struct admin_route admin_routes_scripts[];

/* POST …/script/test. */
void admin_script_test(const struct admin_req *req, struct admin_resp *resp);

/* The project's newest stored event as a validation sample, or NULL when
 * it has none (the built-in sample is used). Caller frees. */
cJSON *admin_script_sample(const struct admin_ctx *ctx, int64_t project_id);

/* 422 {"error": {"code": "script_invalid", "message", "line"}}. */
void admin_script_invalid(struct admin_resp *resp, const char *message, int line);

#endif
