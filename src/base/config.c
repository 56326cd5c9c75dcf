/* config — environment variables into struct config (contract in config.h).
 *
 * Strings are either the environment's own (getenv, process lifetime) or
 * built into static buffers here, so a config needs no freeing; only main()
 * loads it, once (tests load it repeatedly on one thread). This is the only
 * file that reads the environment. */
#include "base/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "base/secretbox.h"

/* The configured install prefix's share/periscope (CMake sets it). */
#ifndef PERISCOPE_DATADIR
#define PERISCOPE_DATADIR "/usr/local/share/periscope"
#endif

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define ADMIN_KEY_RANDOM_BYTES 32
/* An admin key shorter than this is refused: it could be guessed. */
#define ADMIN_KEY_MIN_CHARS 32
#define ADMIN_KEY_FILE "admin.key"
#define SECRETS_KEY_FILE "secret.key"
#define VALUE_ECHO_MAX 40 /* how much of a bad value the error line repeats */

static char sqlite_path_buf[PATH_MAX];
static char public_url_buf[1024];
static char lua_dir_buf[PATH_MAX];
static char migrations_dir_buf[PATH_MAX];
static char web_dir_buf[PATH_MAX];
static char share_dir_buf[PATH_MAX];
static char admin_key_buf[256];
static char node_name_buf[320];

/* The bad value, shortened, for the error line. Borrowed static buffer. */
static const char *echo(const char *v)
{
    static char buf[VALUE_ECHO_MAX + 4];
    size_t n = strlen(v);
    if (n <= VALUE_ECHO_MAX) return v;
    snprintf(buf, sizeof buf, "%.*s...", VALUE_ECHO_MAX, v);
    return buf;
}

static int bad(char *err, size_t errlen, const char *name, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int bad(char *err, size_t errlen, const char *name, const char *value, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "invalid %s=\"%s\": %s", name, echo(value), why);
    return -EINVAL;
}

/* Unset and empty both mean "use the default". */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *env_str(const char *name, const char *def)
{
    const char *v = env(name);
    return v ? v : def;
}

static int env_long(const char *name, long def, long min, long max, long *out, char *err,
                    size_t errlen)
{
    const char *v = env(name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return bad(err, errlen, name, v, "expected an integer from %ld to %ld", min, max);
    *out = n;
    return 0;
}

static int env_int(const char *name, int def, int min, int max, int *out, char *err, size_t errlen)
{
    long n;
    int rc = env_long(name, def, min, max, &n, err, errlen);
    if (rc == 0) *out = (int)n;
    return rc;
}

static int env_bool(const char *name, bool def, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    const char *v = env(name);
    *out = def;
    if (!v) return 0;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(v, yes[i]) == 0) return (*out = true), 0;
        if (strcasecmp(v, no[i]) == 0) return (*out = false), 0;
    }
    return bad(err, errlen, name, v, "expected true/false, 1/0 or yes/no");
}

/* Bytes: a plain number, or with a binary suffix K/KiB, M/MiB, G/GiB. */
static int env_size(const char *name, size_t def, size_t min, size_t *out, char *err, size_t errlen)
{
    static const struct {
        const char *suffix;
        size_t mult;
    } units[] = {{"", 1},     {"b", 1},     {"k", KIB}, {"kb", KIB}, {"kib", KIB}, {"m", MIB},
                 {"mb", MIB}, {"mib", MIB}, {"g", GIB}, {"gb", GIB}, {"gib", GIB}};
    const char *v = env(name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *v == '-' || *v == '+') goto invalid;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcasecmp(end, units[i].suffix) != 0) continue;
        if (n > SIZE_MAX / units[i].mult || n * units[i].mult < min) goto invalid;
        *out = (size_t)n * units[i].mult;
        return 0;
    }
invalid:
    return bad(err, errlen, name, v,
               "expected a size in bytes of at least %zu (suffix K, M or G allowed)", min);
}

static int env_choice(const char *name, const char *const *choices, int def, int *out, char *err,
                      size_t errlen)
{
    const char *v = env(name);
    *out = def;
    if (!v) return 0;
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(v, choices[i]) == 0) return (*out = i), 0;
    return bad(err, errlen, name, v, "expected %s or %s", choices[0], choices[1]);
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/* The defaults, the one place they are written (config.h). */
void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    /* HTTP */
    c->host = "127.0.0.1";
    c->port = 8000;
    c->public_url = "http://127.0.0.1:8000"; /* http://HOST:PORT, derived again at load */
    c->allowed_origins = "*";
    c->request_timeout_s = 30;
    c->http_threads = cores();
    /* accounts: libsodium's interactive Argon2id cost */
    c->password_opslimit = 2;
    c->password_memlimit = 64 * MIB;
    c->session_idle_s = 7L * 86400;
    c->session_max_age_s = 30L * 86400;
    /* storage */
    c->data_dir = "./data";
    c->sqlite_path = "./data/periscope.db"; /* DATA_DIR/periscope.db, derived again at load */
    c->pg_host = "127.0.0.1";
    c->pg_port = 5432;
    c->pg_user = "pguser";
    c->pg_password = "";
    c->pg_database = "periscope";
    c->db_timeout_ms = 5000;
    c->spool_max_bytes = 256 * MIB;
    /* pipeline */
    c->workers = cores();
    c->queue_capacity = 10000;
    c->batch_max = 1000;
    c->ack_mode = ACK_MODE_COMMIT;
    c->retention_days = 90;
    c->max_events_per_issue = 1000;
    c->retention_interval_ms = 600000;
    c->stall_timeout_s = 10;
    c->shutdown_timeout_s = 30;
    c->counter_flush_ms = 1000;
    /* limits */
    c->max_body_bytes = 20 * MIB;
    c->max_envelope_bytes = 100 * MIB;
    c->max_event_bytes = MIB;
    c->max_json_depth = 64;
    c->ingest_memory_bytes = 512 * MIB;
    /* Lua */
    c->lua_memory_bytes = 16 * MIB;
    c->lua_instruction_limit = 1000000;
    c->lua_time_limit_ms = 1000;
    c->script_max_bytes = 256 * KIB;
    /* notifications */
    c->destination_rate_per_minute = 20;
    c->notify_poll_ms = 2000;
    c->notify_retry_base_ms = 5000;
    c->notify_throttle_window_ms = 60000;
    c->notify_connect_timeout_ms = 5000;
    c->notify_timeout_ms = 15000;
    /* logging */
    c->log_format = LOG_FORMAT_JSON;
}

static int load_http(struct config *c, char *err, size_t errlen)
{
    int rc;
    c->host = env_str("HOST", c->host);
    if ((rc = env_int("PORT", c->port, 1, 65535, &c->port, err, errlen))) return rc;
    c->allowed_origins = env_str("ALLOWED_ORIGINS", c->allowed_origins);
    if ((rc = env_int("REQUEST_TIMEOUT", c->request_timeout_s, 1, 3600, &c->request_timeout_s, err,
                      errlen)))
        return rc;
    if ((rc = env_int("HTTP_THREADS", c->http_threads, 1, 1024, &c->http_threads, err, errlen)))
        return rc;

    const char *url = env("PUBLIC_URL");
    if (!url) {
        bool v6 = strchr(c->host, ':') != NULL;
        snprintf(public_url_buf, sizeof public_url_buf, "http://%s%s%s:%d", v6 ? "[" : "", c->host,
                 v6 ? "]" : "", c->port);
    } else {
        size_t n = strlen(url);
        if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
            n >= sizeof public_url_buf || strchr(url, '@') || strchr(url, '?') || strchr(url, '#'))
            return bad(err, errlen, "PUBLIC_URL", url,
                       "expected http://host[:port][/path] or https://…, without user, query or "
                       "fragment");
        const char *host = strstr(url, "://") + 3;
        if (*host == '\0' || *host == '/')
            return bad(err, errlen, "PUBLIC_URL", url, "the URL has no host");
        while (url[n - 1] == '/')
            n--;
        memcpy(public_url_buf, url, n);
        public_url_buf[n] = '\0';
    }
    c->public_url = public_url_buf;
    return 0;
}

static int load_storage(struct config *c, char *err, size_t errlen)
{
    int rc;
    c->data_dir = env_str("DATA_DIR", c->data_dir);
    const char *sqlite = env("SQLITE_PATH");
    if (!sqlite) {
        if ((size_t)snprintf(sqlite_path_buf, sizeof sqlite_path_buf, "%s/periscope.db",
                             c->data_dir) >= sizeof sqlite_path_buf)
            return bad(err, errlen, "DATA_DIR", c->data_dir, "path too long");
        sqlite = sqlite_path_buf;
    }
    c->sqlite_path = sqlite;
    if ((rc = env_bool("POSTGRES_ENABLED", c->postgres_enabled, &c->postgres_enabled, err, errlen)))
        return rc;
    c->pg_host = env_str("POSTGRES_HOST", c->pg_host);
    if ((rc = env_int("POSTGRES_PORT", c->pg_port, 1, 65535, &c->pg_port, err, errlen))) return rc;
    c->pg_user = env_str("POSTGRES_USER", c->pg_user);
    c->pg_password = env_str("POSTGRES_PASSWORD", c->pg_password);
    c->pg_database = env_str("POSTGRES_DATABASE", c->pg_database);
    if ((rc = env_int("DB_TIMEOUT_MS", c->db_timeout_ms, 100, 3600000, &c->db_timeout_ms, err,
                      errlen)))
        return rc;
    return env_size("SPOOL_MAX_BYTES", c->spool_max_bytes, 0, &c->spool_max_bytes, err, errlen);
}

/* The buffered counters (store/counters.h) and the durability of a commit. */
static int load_counters(struct config *c, char *err, size_t errlen)
{
    static const char *const syncs[] = {"normal", "full", NULL};
    int rc, sync;
    if ((rc = env_int("COUNTER_FLUSH_MS", c->counter_flush_ms, 0, 3600000, &c->counter_flush_ms,
                      err, errlen)))
        return rc;
    if ((rc = env_choice("SYNC", syncs, c->sync_full, &sync, err, errlen))) return rc;
    c->sync_full = sync == 1;
    const char *name = env_str("NODE_NAME", NULL);
    if (!name || !*name) {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        snprintf(node_name_buf, sizeof node_name_buf, "%s:%d", host, c->port);
        name = node_name_buf;
    }
    c->node_name = name;
    uint32_t h = 2166136261u; /* FNV-1a: the node's number in events.node */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    c->node_id = (int)(h & 0x3fffffff) + 1;
    return 0;
}

static int load_pipeline(struct config *c, char *err, size_t errlen)
{
    static const char *const ack_modes[] = {"commit", "queue", NULL};
    int rc, mode;
    if ((rc = env_int("WORKERS", c->workers, 1, 1024, &c->workers, err, errlen))) return rc;
    if ((rc = env_int("QUEUE_CAPACITY", c->queue_capacity, 1, 10000000, &c->queue_capacity, err,
                      errlen)))
        return rc;
    if ((rc = env_int("BATCH_MAX", c->batch_max, 1, 100000, &c->batch_max, err, errlen))) return rc;
    if ((rc = env_choice("ACK_MODE", ack_modes, (int)c->ack_mode, &mode, err, errlen))) return rc;
    c->ack_mode = (enum ack_mode)mode;
    if ((rc = env_int("RETENTION_DAYS", c->retention_days, 1, 36500, &c->retention_days, err,
                      errlen)))
        return rc;
    if ((rc = env_int("RETENTION_INTERVAL_MS", c->retention_interval_ms, 1, 86400000,
                      &c->retention_interval_ms, err, errlen)))
        return rc;
    if ((rc = env_int("MAX_EVENTS_PER_ISSUE", c->max_events_per_issue, 1, 1000000000,
                      &c->max_events_per_issue, err, errlen)))
        return rc;
    if ((rc = env_int("STALL_TIMEOUT", c->stall_timeout_s, 1, 3600, &c->stall_timeout_s, err,
                      errlen)))
        return rc;
    if ((rc = load_counters(c, err, errlen))) return rc;
    return env_int("SHUTDOWN_TIMEOUT", c->shutdown_timeout_s, 1, 3600, &c->shutdown_timeout_s, err,
                   errlen);
}

static int load_limits(struct config *c, char *err, size_t errlen)
{
    int rc;
    if ((rc = env_size("MAX_BODY_BYTES", c->max_body_bytes, 1024, &c->max_body_bytes, err, errlen)))
        return rc;
    if ((rc = env_size("MAX_ENVELOPE_BYTES", c->max_envelope_bytes, 1024, &c->max_envelope_bytes,
                       err, errlen)))
        return rc;
    if ((rc = env_size("MAX_EVENT_BYTES", c->max_event_bytes, 1024, &c->max_event_bytes, err,
                       errlen)))
        return rc;
    if ((rc = env_size("INGEST_MEMORY_LIMIT", c->ingest_memory_bytes, 4 * MIB,
                       &c->ingest_memory_bytes, err, errlen)))
        return rc;
    return env_int("MAX_JSON_DEPTH", c->max_json_depth, 1, 1000, &c->max_json_depth, err, errlen);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A share directory holds the server's Lua modules and the migrations. */
static bool is_share_dir(const char *dir)
{
    char lua[PATH_MAX], migrations[PATH_MAX];
    if ((size_t)snprintf(lua, sizeof lua, "%s/lua/periscope", dir) >= sizeof lua ||
        (size_t)snprintf(migrations, sizeof migrations, "%s/migrations", dir) >= sizeof migrations)
        return false;
    return is_dir(lua) && is_dir(migrations);
}

/* share/periscope next to the binary (installed: <bindir>/../share; build
 * tree: <builddir>/share), else under the configured prefix. Fills
 * share_dir_buf (canonical) or says in err where it looked. */
static int find_share_dir(char *err, size_t errlen)
{
    static const char *const beside_binary[] = {"/../share/periscope", "/share/periscope"};
    char exe[PATH_MAX], cand[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    for (size_t i = 0; slash && i < sizeof beside_binary / sizeof *beside_binary; i++) {
        snprintf(cand, sizeof cand, "%s%s", exe, beside_binary[i]);
        if (is_share_dir(cand) && realpath(cand, share_dir_buf)) return 0;
    }
    if (is_share_dir(PERISCOPE_DATADIR) && realpath(PERISCOPE_DATADIR, share_dir_buf)) return 0;
    snprintf(err, errlen,
             "cannot find Periscope's Lua modules and migrations (looked in %s/../share/periscope "
             "and %s): set LUA_DIR and MIGRATIONS_DIR",
             exe, PERISCOPE_DATADIR);
    return -EINVAL;
}

/* A directory variable: the value, which must be a directory, else
 * <share>/<sub> (finding the share directory when needed). */
static int env_dir(const char *name, const char *sub, char *buf, size_t buflen, const char **out,
                   char *err, size_t errlen)
{
    const char *v = env(name);
    if (v) {
        if (!is_dir(v)) return bad(err, errlen, name, v, "not a directory");
        *out = v;
        return 0;
    }
    int rc = share_dir_buf[0] ? 0 : find_share_dir(err, errlen);
    if (rc) return rc;
    if ((size_t)snprintf(buf, buflen, "%s/%s", share_dir_buf, sub) >= buflen)
        return bad(err, errlen, name, share_dir_buf, "path too long");
    *out = buf;
    return 0;
}

/* The web interface is optional: WEB_DIR (must be a directory), else
 * <share>/web when it is there, else none (NULL). */
static int load_web_dir(struct config *c, char *err, size_t errlen)
{
    c->web_dir = env("WEB_DIR");
    if (c->web_dir)
        return is_dir(c->web_dir) ? 0 : bad(err, errlen, "WEB_DIR", c->web_dir, "not a directory");
    char ignored[256];
    if (!share_dir_buf[0] && find_share_dir(ignored, sizeof ignored) != 0) return 0;
    if ((size_t)snprintf(web_dir_buf, sizeof web_dir_buf, "%s/web", share_dir_buf) <
            sizeof web_dir_buf &&
        is_dir(web_dir_buf))
        c->web_dir = web_dir_buf;
    return 0;
}

static int load_paths(struct config *c, char *err, size_t errlen)
{
    int rc;
    share_dir_buf[0] = '\0';
    if ((rc = env_dir("LUA_DIR", "lua", lua_dir_buf, sizeof lua_dir_buf, &c->lua_dir, err, errlen)))
        return rc;
    if ((rc = env_dir("MIGRATIONS_DIR", "migrations", migrations_dir_buf, sizeof migrations_dir_buf,
                      &c->migrations_dir, err, errlen)))
        return rc;
    c->share_dir = share_dir_buf[0] ? share_dir_buf : NULL;
    return load_web_dir(c, err, errlen);
}

static int load_lua(struct config *c, char *err, size_t errlen)
{
    int rc;
    if ((rc = env_size("LUA_MEMORY_LIMIT", c->lua_memory_bytes, 256 * KIB, &c->lua_memory_bytes,
                       err, errlen)))
        return rc;
    if ((rc = env_long("LUA_INSTRUCTION_LIMIT", c->lua_instruction_limit, 1000, LONG_MAX,
                       &c->lua_instruction_limit, err, errlen)))
        return rc;
    if ((rc = env_long("LUA_TIME_LIMIT_MS", c->lua_time_limit_ms, 10, 3600000,
                       &c->lua_time_limit_ms, err, errlen)))
        return rc;
    return env_size("SCRIPT_MAX_BYTES", c->script_max_bytes, 64, &c->script_max_bytes, err, errlen);
}

/* The notifier's timings: tunable for tests and unusual networks. */
static int load_notify(struct config *c, char *err, size_t errlen)
{
    static const long DAY_MS = 86400000L, HOUR_MS = 3600000L;
    int rc;
    if ((rc = env_long("NOTIFY_POLL_MS", c->notify_poll_ms, 1, HOUR_MS, &c->notify_poll_ms, err,
                       errlen)))
        return rc;
    if ((rc = env_long("NOTIFY_RETRY_BASE_MS", c->notify_retry_base_ms, 1, DAY_MS,
                       &c->notify_retry_base_ms, err, errlen)))
        return rc;
    if ((rc = env_long("NOTIFY_THROTTLE_WINDOW_MS", c->notify_throttle_window_ms, 1, DAY_MS,
                       &c->notify_throttle_window_ms, err, errlen)))
        return rc;
    if ((rc = env_long("NOTIFY_CONNECT_TIMEOUT_MS", c->notify_connect_timeout_ms, 1, HOUR_MS,
                       &c->notify_connect_timeout_ms, err, errlen)))
        return rc;
    return env_long("NOTIFY_TIMEOUT_MS", c->notify_timeout_ms, 1, HOUR_MS, &c->notify_timeout_ms,
                    err, errlen);
}

static int load_misc(struct config *c, char *err, size_t errlen)
{
    static const char *const formats[] = {"json", "text", NULL};
    int rc, fmt;
    if ((rc = env_bool("ALLOW_PRIVATE_DESTINATIONS", c->allow_private_destinations,
                       &c->allow_private_destinations, err, errlen)))
        return rc;
    if ((rc = env_int("DESTINATION_RATE_PER_MINUTE", c->destination_rate_per_minute, 1, 100000,
                      &c->destination_rate_per_minute, err, errlen)))
        return rc;
    if ((rc = env_choice("LOG_FORMAT", formats, (int)c->log_format, &fmt, err, errlen))) return rc;
    c->log_format = (enum log_format)fmt;
    if ((rc = env_bool("DEBUG", c->debug, &c->debug, err, errlen))) return rc;
    c->admin_key = env("API_SECRET_KEY_ADMIN");
    c->admin_key_generated = false;
    if (c->admin_key && strlen(c->admin_key) < ADMIN_KEY_MIN_CHARS) {
        /* Not bad(): the line must not repeat the key. */
        snprintf(err, errlen,
                 "invalid API_SECRET_KEY_ADMIN: at least %d characters required (e.g. `openssl "
                 "rand -hex 32`)",
                 ADMIN_KEY_MIN_CHARS);
        return -EINVAL;
    }
    const char *sk = env("SECRETS_KEY");
    c->secrets_key_set = sk != NULL;
    if (sk && secretbox_key_parse(sk, c->secrets_key) != 0) {
        snprintf(err, errlen,
                 "invalid SECRETS_KEY: expected 64 hex digits (e.g. `openssl rand "
                 "-hex 32`)");
        return -EINVAL;
    }
    return 0;
}

static int load_accounts(struct config *c, char *err, size_t errlen)
{
    long ops;
    int rc;
    /* libsodium's interactive Argon2id cost by default; its minimums (1
     * pass, 8 KiB) as the lower bounds. */
    if ((rc = env_long("PASSWORD_HASH_OPSLIMIT", (long)c->password_opslimit, 1, 32, &ops, err,
                       errlen)))
        return rc;
    c->password_opslimit = (unsigned long long)ops;
    if ((rc = env_size("PASSWORD_HASH_MEMORY", c->password_memlimit, 8 * KIB, &c->password_memlimit,
                       err, errlen)))
        return rc;
    if (c->password_memlimit > 4 * GIB)
        return bad(err, errlen, "PASSWORD_HASH_MEMORY", env("PASSWORD_HASH_MEMORY"),
                   "at most 4 GiB");
    if ((rc = env_long("SESSION_IDLE_TIMEOUT", c->session_idle_s, 1, 366L * 86400,
                       &c->session_idle_s, err, errlen)))
        return rc;
    return env_long("SESSION_MAX_AGE", c->session_max_age_s, 1, 366L * 86400, &c->session_max_age_s,
                    err, errlen);
}

const char *config_password_env(void)
{
    return env("PERISCOPE_PASSWORD");
}

int config_load(struct config *cfg, char *err, size_t errlen)
{
    int rc;
    config_defaults(cfg);
    if ((rc = load_http(cfg, err, errlen))) return rc;
    if ((rc = load_storage(cfg, err, errlen))) return rc;
    if ((rc = load_pipeline(cfg, err, errlen))) return rc;
    if ((rc = load_limits(cfg, err, errlen))) return rc;
    if ((rc = load_lua(cfg, err, errlen))) return rc;
    if ((rc = load_notify(cfg, err, errlen))) return rc;
    if ((rc = load_misc(cfg, err, errlen))) return rc;
    if ((rc = load_accounts(cfg, err, errlen))) return rc;
    return load_paths(cfg, err, errlen);
}

/* mkdir, mode 0700 whatever the umask; an existing directory is fine. */
static int mkdir_private(const char *path)
{
    if (mkdir(path, 0700) != 0) return errno == EEXIST ? 0 : -errno;
    return chmod(path, 0700) == 0 ? 0 : -errno;
}

/* mkdir -p, mode 0700 for what it creates (DATA_DIR holds the database
 * and the keys). */
static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir_private(buf);
        if (rc) return rc;
        *p = '/';
    }
    int rc = mkdir_private(buf);
    if (rc) return rc;
    struct stat st;
    if (stat(buf, &st) != 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Reads an existing key file: 0, -ENOENT, or another negative errno. */
static int read_key_file(const char *path, char *out, size_t outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, out, outlen - 1);
    int saved = errno;
    close(fd);
    if (n < 0) return -saved;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        n--;
    out[n] = '\0';
    return n > 0 ? 0 : -EINVAL;
}

/* Creates the file exclusively with a fresh random key: 0, -EEXIST when
 * another process won the race, or another negative errno. */
static int write_key_file(const char *path, char *out, size_t outlen)
{
    unsigned char raw[ADMIN_KEY_RANDOM_BYTES];
    if (outlen < 2 * sizeof raw + 1) return -ENOBUFS;
    if (RAND_bytes(raw, sizeof raw) != 1) return -EIO;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    char line[2 * ADMIN_KEY_RANDOM_BYTES + 2];
    int len = snprintf(line, sizeof line, "%s\n", out);
    int rc = 0;
    if (fchmod(fd, 0600) != 0 || write(fd, line, (size_t)len) != len || fsync(fd) != 0)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc) unlink(path);
    return rc;
}

int config_prepare_data_dir(const struct config *cfg, char *err, size_t errlen)
{
    int rc = mkdirs(cfg->data_dir);
    if (rc)
        snprintf(err, errlen, "cannot create DATA_DIR \"%s\": %s", cfg->data_dir, strerror(-rc));
    return rc;
}

/* DATA_DIR/name into path[PATH_MAX]: 0, or -ENAMETOOLONG with err set. */
static int data_file(const struct config *cfg, const char *name, char *path, char *err,
                     size_t errlen)
{
    if ((size_t)snprintf(path, PATH_MAX, "%s/%s", cfg->data_dir, name) < PATH_MAX) return 0;
    snprintf(err, errlen, "DATA_DIR path too long");
    return -ENAMETOOLONG;
}

int config_resolve_admin_key(struct config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int rc = config_prepare_data_dir(cfg, err, errlen);
    if (rc || cfg->admin_key) return rc;
    if ((rc = data_file(cfg, ADMIN_KEY_FILE, path, err, errlen))) return rc;
    rc = read_key_file(path, admin_key_buf, sizeof admin_key_buf);
    if (rc == -ENOENT) {
        rc = write_key_file(path, admin_key_buf, sizeof admin_key_buf);
        if (rc == 0)
            cfg->admin_key_generated = true;
        else if (rc == -EEXIST)
            rc = read_key_file(path, admin_key_buf, sizeof admin_key_buf);
    }
    if (rc == 0 && strlen(admin_key_buf) < ADMIN_KEY_MIN_CHARS) {
        snprintf(err, errlen, "admin key file %s: at least %d characters required", path,
                 ADMIN_KEY_MIN_CHARS);
        return -EINVAL;
    }
    if (rc) {
        snprintf(err, errlen, "admin key file %s: %s", path,
                 rc == -EINVAL ? "empty" : strerror(-rc));
        return rc;
    }
    cfg->admin_key = admin_key_buf;
    return 0;
}

int config_resolve_secrets_key(struct config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX], text[256];
    if (cfg->secrets_key_set) return 0;
    int rc = data_file(cfg, SECRETS_KEY_FILE, path, err, errlen);
    if (rc) return rc;
    rc = read_key_file(path, text, sizeof text);
    if (rc == -ENOENT) return 0; /* optional: secrets stay in clear */
    if (rc == 0 && secretbox_key_parse(text, cfg->secrets_key) != 0) rc = -EINVAL;
    OPENSSL_cleanse(text, sizeof text);
    if (rc) {
        snprintf(err, errlen, "secrets key file %s: %s", path,
                 rc == -EINVAL ? "expected 64 hex digits" : strerror(-rc));
        return rc;
    }
    cfg->secrets_key_set = true;
    return 0;
}
