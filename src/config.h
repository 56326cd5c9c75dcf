/* config — the server's settings, read once from the environment at start-up.
 *
 * Owns: struct config and its strings (static storage or strdup'd for the
 * process lifetime). Only main() loads it; everything else reads it through
 * the server context and never writes it. An invalid value is reported with
 * the variable's name and stops start-up (exit code 2). */
#ifndef PERISCOPE_CONFIG_H
#define PERISCOPE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ack_mode { ACK_MODE_COMMIT, ACK_MODE_QUEUE };
enum log_format { LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

struct config {
    /* HTTP */
    const char *host;            /* HOST, default 127.0.0.1 */
    int port;                    /* PORT, default 8000 */
    const char *public_url;      /* PUBLIC_URL, default http://HOST:PORT */
    const char *allowed_origins; /* ALLOWED_ORIGINS, default "*" */
    int request_timeout_s;       /* REQUEST_TIMEOUT, default 30 */
    int http_threads;            /* HTTP_THREADS, default: number of cores */

    /* admin */
    const char *admin_key; /* API_SECRET_KEY_ADMIN, or generated into DATA_DIR/admin.key */
    bool admin_key_generated;

    /* storage */
    const char *data_dir;    /* DATA_DIR, default ./data */
    const char *sqlite_path; /* SQLITE_PATH, default $DATA_DIR/periscope.db */
    bool postgres_enabled;   /* POSTGRES_ENABLED, default false */
    const char *pg_host;     /* POSTGRES_HOST, default 127.0.0.1 */
    int pg_port;             /* POSTGRES_PORT, default 5432 */
    const char *pg_user;     /* POSTGRES_USER, default pguser */
    const char *pg_password; /* POSTGRES_PASSWORD, default "" */
    const char *pg_database; /* POSTGRES_DATABASE, default periscope */

    /* pipeline */
    int workers;              /* WORKERS, default: number of cores */
    int queue_capacity;       /* QUEUE_CAPACITY, default 10000 events */
    int batch_max;            /* BATCH_MAX, default 1000 */
    enum ack_mode ack_mode;   /* ACK_MODE commit|queue, default commit */
    int retention_days;       /* RETENTION_DAYS, default 90 */
    int max_events_per_issue; /* MAX_EVENTS_PER_ISSUE, default 1000 */
    int stall_timeout_s;      /* STALL_TIMEOUT: a stage busy this long without progress is
                               * stalled (/readyz 503), default 10 */
    int shutdown_timeout_s;   /* SHUTDOWN_TIMEOUT: SIGTERM to exit at most, default 30 */

    /* limits (bytes) */
    size_t max_body_bytes;     /* MAX_BODY_BYTES, default 20 MiB (compressed) */
    size_t max_envelope_bytes; /* MAX_ENVELOPE_BYTES, default 100 MiB (decompressed) */
    size_t max_event_bytes;    /* MAX_EVENT_BYTES, default 1 MiB per event item */
    int max_json_depth;        /* MAX_JSON_DEPTH, default 64 */

    /* Lua */
    size_t lua_memory_bytes;    /* LUA_MEMORY_LIMIT, default 16 MiB per state */
    long lua_instruction_limit; /* LUA_INSTRUCTION_LIMIT, default 1,000,000 per call */
    long lua_time_limit_ms;     /* LUA_TIME_LIMIT_MS, default 1000 per call (wall clock) */
    size_t script_max_bytes;    /* SCRIPT_MAX_BYTES, default 256 KiB */
    const char *lua_dir;        /* LUA_DIR: server Lua modules, default <source>/lua */

    /* notifications */
    bool allow_private_destinations; /* ALLOW_PRIVATE_DESTINATIONS, default false */
    int destination_rate_per_minute; /* DESTINATION_RATE_PER_MINUTE, default 20 */

    /* logging */
    enum log_format log_format; /* LOG_FORMAT json|text, default json */
    bool debug;                 /* DEBUG, default false */
};

/* Fills *cfg from the environment. Returns 0, or -EINVAL with a one-line
 * message naming the variable in err. */
int config_load(struct config *cfg, char *err, size_t errlen);

/* Creates DATA_DIR (and its parents) when absent. Returns 0 or a negative
 * errno with a message in err. */
int config_prepare_data_dir(const struct config *cfg, char *err, size_t errlen);

/* Creates DATA_DIR and resolves the admin key: API_SECRET_KEY_ADMIN, else
 * DATA_DIR/admin.key (created mode 0600 with a random key when absent).
 * Returns 0 or a negative errno with a message in err. */
int config_resolve_admin_key(struct config *cfg, char *err, size_t errlen);

#endif
