/* config — the server's settings, read once from the environment at start-up.
 *
 * Owns: struct config and its strings (static storage or the environment's,
 * for the process lifetime). Only main() loads it; everything else reads it
 * through the server context and never writes it, and no other module reads
 * the environment. An invalid value is reported with the variable's name and
 * stops start-up (exit code 2).
 *
 * The server's own files (Lua modules, migrations, default rules) are found
 * relative to the binary: <bindir>/../share/periscope when installed,
 * <builddir>/share/periscope in the build tree (links to the sources), else
 * the configured install prefix's share/periscope. LUA_DIR and
 * MIGRATIONS_DIR override. */
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
    const char *admin_key; /* API_SECRET_KEY_ADMIN (>= 32 characters), or generated into
                            * DATA_DIR/admin.key */
    bool admin_key_generated;
    /* Seals destination secrets at rest (secretbox.h): SECRETS_KEY (64 hex
     * digits), else the file DATA_DIR/secret.key when it exists; none:
     * stored in clear. */
    bool secrets_key_set;
    unsigned char secrets_key[32];

    /* accounts (README "Accounts and tokens") */
    unsigned long long password_opslimit; /* PASSWORD_HASH_OPSLIMIT: Argon2id passes, default 2 */
    size_t password_memlimit; /* PASSWORD_HASH_MEMORY: Argon2id memory, default 64 MiB */
    long session_idle_s;      /* SESSION_IDLE_TIMEOUT: a session unused this long ends, 7 days */
    long session_max_age_s;   /* SESSION_MAX_AGE: a session ends this long after login, 30 days */

    /* storage */
    const char *data_dir;       /* DATA_DIR, default ./data */
    const char *sqlite_path;    /* SQLITE_PATH, default $DATA_DIR/periscope.db */
    bool postgres_enabled;      /* POSTGRES_ENABLED, default false */
    const char *pg_host;        /* POSTGRES_HOST, default 127.0.0.1 */
    int pg_port;                /* POSTGRES_PORT, default 5432 */
    const char *pg_user;        /* POSTGRES_USER, default pguser */
    const char *pg_password;    /* POSTGRES_PASSWORD, default "" */
    const char *pg_database;    /* POSTGRES_DATABASE, default periscope */
    int db_timeout_ms;          /* DB_TIMEOUT_MS: longest wait for one statement (Postgres
                                 * statement_timeout, and the client's own deadline), default
                                 * 5000 */
    size_t spool_max_bytes;     /* SPOOL_MAX_BYTES: on-disk spool of accepted events the
                                 * database could not take (DATA_DIR/spool), default 256 MiB;
                                 * 0: no spool (the writer holds the batch and retries) */
    const char *migrations_dir; /* MIGRATIONS_DIR (holds sqlite/ and postgres/), default
                                 * <share>/migrations */

    /* pipeline */
    int workers;               /* WORKERS, default: number of cores */
    int queue_capacity;        /* QUEUE_CAPACITY, default 10000 events */
    int batch_max;             /* BATCH_MAX, default 1000 */
    enum ack_mode ack_mode;    /* ACK_MODE commit|queue, default commit */
    int retention_days;        /* RETENTION_DAYS, default 90 */
    int max_events_per_issue;  /* MAX_EVENTS_PER_ISSUE, default 1000 */
    int retention_interval_ms; /* RETENTION_INTERVAL_MS, default 600000 (10 minutes) */
    int stall_timeout_s;       /* STALL_TIMEOUT: a stage busy this long without progress is
                                * stalled (/readyz 503), default 10 */
    int shutdown_timeout_s;    /* SHUTDOWN_TIMEOUT: SIGTERM to exit at most, default 30 */
    int counter_flush_ms;      /* COUNTER_FLUSH_MS: issue, tag and hourly counts are summed in
                                * memory and written this often, default 1000; 0: with every
                                * batch, before its acknowledgement */
    bool sync_full;            /* SYNC normal|full, default normal: full fsyncs every SQLite
                                * commit (an acknowledgement survives power loss) */
    const char *node_name;     /* NODE_NAME, default <hostname>:<PORT>: this node among several
                                * on one Postgres */
    int node_id;               /* derived from node_name: events.node, counter_marks.node */

    /* limits (bytes) */
    size_t max_body_bytes;      /* MAX_BODY_BYTES, default 20 MiB (compressed) */
    size_t max_envelope_bytes;  /* MAX_ENVELOPE_BYTES, default 100 MiB (decompressed) */
    size_t max_event_bytes;     /* MAX_EVENT_BYTES, default 1 MiB per event item */
    int max_json_depth;         /* MAX_JSON_DEPTH, default 64 */
    size_t ingest_memory_bytes; /* INGEST_MEMORY_LIMIT, default 512 MiB: decoded bodies and
                                 * parsed events held across every request and the queue */

    /* Lua */
    size_t lua_memory_bytes;    /* LUA_MEMORY_LIMIT, default 16 MiB per state */
    long lua_instruction_limit; /* LUA_INSTRUCTION_LIMIT, default 1,000,000 per call */
    long lua_time_limit_ms;     /* LUA_TIME_LIMIT_MS, default 1000 per call (wall clock) */
    size_t script_max_bytes;    /* SCRIPT_MAX_BYTES, default 256 KiB */
    const char *lua_dir;        /* LUA_DIR: server Lua modules, default <share>/lua */
    const char *web_dir;        /* WEB_DIR: the web interface, default <share>/web; NULL when
                                 * neither is there (no web interface) */

    /* notifications */
    bool allow_private_destinations; /* ALLOW_PRIVATE_DESTINATIONS, default false */
    int destination_rate_per_minute; /* DESTINATION_RATE_PER_MINUTE, default 20 */
    long notify_poll_ms;             /* NOTIFY_POLL_MS: outbox poll, default 2000 */
    long notify_retry_base_ms;       /* NOTIFY_RETRY_BASE_MS: first retry delay, default 5000 */
    long notify_throttle_window_ms;  /* NOTIFY_THROTTLE_WINDOW_MS: digest window, default 60000 */
    long notify_connect_timeout_ms;  /* NOTIFY_CONNECT_TIMEOUT_MS, default 5000 */
    long notify_timeout_ms;          /* NOTIFY_TIMEOUT_MS: whole request, default 15000 */

    /* where the server's own files were found (for the start-up log) */
    const char *share_dir; /* NULL when LUA_DIR and MIGRATIONS_DIR are both set */

    /* logging */
    enum log_format log_format; /* LOG_FORMAT json|text, default json */
    bool debug;                 /* DEBUG, default false */
};

/* Every setting's default, the one place they are written: config_load
 * starts from them, the Lua vm limits fall back on them for a config built
 * by hand, and the tests build theirs from them (tests/support.h). The
 * paths found at load (lua_dir, migrations_dir, web_dir, share_dir) are
 * NULL, admin_key NULL, node_name NULL and node_id 0; public_url and
 * sqlite_path are what the default host, port and data_dir give. */
void config_defaults(struct config *cfg);

/* PERISCOPE_PASSWORD (the `periscope user` commands' password when no
 * --password-file is given), or NULL. Borrowed from the environment. */
const char *config_password_env(void);

/* Fills *cfg from the environment over config_defaults. Returns 0, or -EINVAL with a one-line
 * message naming the variable in err. */
int config_load(struct config *cfg, char *err, size_t errlen);

/* Creates DATA_DIR (and its parents) when absent, mode 0700. Returns 0 or
 * a negative errno with a message in err. */
int config_prepare_data_dir(const struct config *cfg, char *err, size_t errlen);

/* Creates DATA_DIR and resolves the admin key: API_SECRET_KEY_ADMIN, else
 * DATA_DIR/admin.key (created mode 0600 with a random key when absent).
 * Returns 0 or a negative errno with a message in err. */
int config_resolve_admin_key(struct config *cfg, char *err, size_t errlen);

/* Without SECRETS_KEY, reads DATA_DIR/secret.key when it exists into
 * cfg->secrets_key. 0, or a negative errno with a message in err (a file
 * that is not 64 hex digits is -EINVAL). */
int config_resolve_secrets_key(struct config *cfg, char *err, size_t errlen);

#endif
