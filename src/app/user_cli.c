/* user_cli — setup link and `periscope user` (contract in user_cli.h). */
#include "app/user_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "accounts/authz.h"
#include "accounts/email.h"
#include "accounts/password.h"
#include "accounts/secret.h"
#include "base/config.h"
#include "base/log.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/tokens.h"
#include "store/users.h"

#define EXIT_USAGE 2
#define LINE_MAX_BYTES (PASSWORD_MAX_BYTES + 2)

const char user_cli_usage[] =
    "usage: periscope user create EMAIL --role admin|member|viewer [--name NAME]\n"
    "                             [--password-file FILE]\n"
    "       periscope user reset-password EMAIL [--password-file FILE]\n\n"
    "Creates a user, or sets a user's password (and ends their sessions), on the\n"
    "configured database, without the server. The password comes from the first\n"
    "line of --password-file, else PERISCOPE_PASSWORD, else a prompt (asked twice on\n"
    "a terminal; one line of standard input otherwise). At least 12 characters.\n";

int user_cli_announce_setup(const struct config *cfg, struct store *st)
{
    char token[SECRET_HEX_CHARS + 1], digest[SECRET_DIGEST_HEX + 1];
    int64_t users = 0;
    struct db *db = store_acquire(st);
    int rc = users_count(db, NULL, &users);
    if (rc == 0 && users == 0 && (rc = secret_random_hex(token)) == 0) {
        secret_digest_hex(token, strlen(token), digest);
        rc = setup_link_replace(db, digest, clock_wall_ms() + SETUP_LINK_VALID_MS);
    }
    store_release(st, db);
    if (rc) {
        fprintf(stderr, "periscope: database: cannot prepare the setup link: %s\n", strerror(-rc));
        return EXIT_FAILURE;
    }
    if (users > 0) return 0;
    size_t n = strlen(cfg->public_url);
    bool slash = n > 0 && cfg->public_url[n - 1] == '/';
    printf("setup link: %s%ssetup?token=%s\n(creates the first admin; valid 24 h, once; or run "
           "`periscope user create EMAIL --role admin`)\n",
           cfg->public_url, slash ? "" : "/", token);
    return 0;
}

/* One line of f into buf without its line end. 0, or -EINVAL (too long, empty). */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f)) return -EINVAL;
    size_t n = strlen(buf);
    bool whole = n > 0 && buf[n - 1] == '\n';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return whole || feof(f) ? 0 : -EINVAL;
}

static int prompt_tty(const char *question, char *buf, size_t len)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return -ENOTTY;
    struct termios old, quiet;
    int fd = fileno(tty), rc;
    fprintf(tty, "%s", question);
    fflush(tty);
    bool echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    rc = read_line(tty, buf, len);
    if (echo_off) tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty, "\n");
    fclose(tty);
    return rc;
}

/* The password: --password-file, PERISCOPE_PASSWORD, or a prompt. */
static int get_password(const char *file, char *buf, size_t len)
{
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "periscope: cannot read %s: %s\n", file, strerror(errno));
            return -errno;
        }
        int rc = read_line(f, buf, len);
        fclose(f);
        return rc;
    }
    const char *env = config_password_env();
    if (env) {
        if (strlen(env) >= len) return -EINVAL;
        memcpy(buf, env, strlen(env) + 1);
        return 0;
    }
    if (!isatty(STDIN_FILENO)) return read_line(stdin, buf, len);
    char again[LINE_MAX_BYTES];
    int rc = prompt_tty("Password: ", buf, len);
    if (rc == 0) rc = prompt_tty("Password again: ", again, sizeof again);
    if (rc == 0 && strcmp(buf, again) != 0) {
        fprintf(stderr, "periscope: the passwords differ\n");
        rc = -EINVAL;
    }
    sodium_memzero(again, sizeof again);
    return rc;
}

struct user_args {
    const char *action, *email, *role, *name, *password_file;
};

static int parse_args(int argc, char **argv, struct user_args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 3) return -EINVAL;
    a->action = argv[1];
    a->email = argv[2];
    for (int i = 3; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--role") == 0            ? &a->role
                            : strcmp(argv[i], "--name") == 0          ? &a->name
                            : strcmp(argv[i], "--password-file") == 0 ? &a->password_file
                                                                      : NULL;
        if (!slot || i + 1 == argc) return -EINVAL;
        *slot = argv[++i];
    }
    bool create = strcmp(a->action, "create") == 0;
    bool reset = strcmp(a->action, "reset-password") == 0;
    if (!create && !reset) return -EINVAL;
    if (create != (a->role != NULL) || (reset && a->name)) return -EINVAL;
    return 0;
}

static int open_db(struct config *cfg, struct store **st)
{
    char err[512];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: %s\n", err);
        return EXIT_USAGE;
    }
    log_init(cfg->log_format, cfg->debug);
    if (config_prepare_data_dir(cfg, err, sizeof err) != 0 ||
        store_open(cfg, st, err, sizeof err) != 0) {
        fprintf(stderr, "periscope: database: %s\n", err);
        return EXIT_FAILURE;
    }
    return 0;
}

/* Creates or resets on the open store; prints the outcome. */
static int apply(struct store *st, const struct user_args *a, const char *email, const char *hash)
{
    struct db *db = store_acquire(st);
    struct user_login u;
    int64_t id = 0;
    int rc;
    if (strcmp(a->action, "create") == 0) {
        rc = users_create(db, email, a->name ? a->name : "", a->role, hash, &id);
        if (rc == 0) printf("Created %s %s (id %lld).\n", a->role, email, (long long)id);
    } else {
        rc = users_by_email(db, email, &u);
        if (rc == 0) rc = users_update(db, u.id, NULL, NULL, NULL, hash);
        if (rc == 0) rc = sessions_delete_user(db, u.id);
        if (rc == 0) printf("Password of %s set; their sessions have ended.\n", email);
    }
    store_release(st, db);
    if (rc == -EEXIST)
        fprintf(stderr, "periscope: a user with this email exists\n");
    else if (rc == -ENOENT)
        fprintf(stderr, "periscope: no user with this email\n");
    else if (rc)
        fprintf(stderr, "periscope: database: %s\n", strerror(-rc));
    return rc ? EXIT_FAILURE : 0;
}

int user_cli_command(int argc, char **argv)
{
    struct user_args a;
    char email[EMAIL_MAX + 1], password[LINE_MAX_BYTES], hash[PASSWORD_HASH_MAX], why[128];
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return printf("%s", user_cli_usage), 0;
    if (parse_args(argc, argv, &a) != 0) return fprintf(stderr, "%s", user_cli_usage), EXIT_USAGE;
    if (email_normalize(a.email, email) != 0) {
        fprintf(stderr, "periscope: EMAIL must be an address like name@example.com\n");
        return EXIT_USAGE;
    }
    if (a.role && authz_role_parse(a.role) == LEVEL_NONE) {
        fprintf(stderr, "periscope: --role must be admin, member or viewer\n");
        return EXIT_USAGE;
    }
    if (a.name && strlen(a.name) > USER_NAME_MAX) {
        fprintf(stderr, "periscope: --name must be at most %d bytes\n", USER_NAME_MAX);
        return EXIT_USAGE;
    }
    struct config cfg;
    struct store *st = NULL;
    int rc = open_db(&cfg, &st);
    if (rc) return rc;
    if (get_password(a.password_file, password, sizeof password) != 0) {
        fprintf(stderr, "periscope: no password read (--password-file, PERISCOPE_PASSWORD or "
                        "the prompt)\n");
        rc = EXIT_USAGE;
    } else if (password_check_policy(password, why, sizeof why) != 0) {
        fprintf(stderr, "periscope: %s\n", why);
        rc = EXIT_USAGE;
    } else {
        struct password_params params = {cfg.password_opslimit, cfg.password_memlimit};
        rc =
            password_hash(&params, password, hash) == 0 ? apply(st, &a, email, hash) : EXIT_FAILURE;
    }
    sodium_memzero(password, sizeof password);
    store_close(st);
    return rc;
}
