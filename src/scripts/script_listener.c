/* script_listener — LISTEN periscope_scripts on a dedicated connection. */
#include "scripts/script_listener.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/config.h"
#include "lua/registry.h"
#include "store/db.h"
#include "store/scripts_notify.h"

#define LISTEN_WAIT_MS 250
#define RETRY_PAUSE_MS 500 /* between attempts while the database is away */

struct script_listener {
    struct script_registry *scripts;
    script_listener_keys_fn forget_keys;
    void *keys_ctx;
    struct db *db; /* owned; used by the thread only once it runs */
    pthread_t thread;
    atomic_bool stop;
};

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void keys_changed(struct script_listener *l)
{
    if (l->forget_keys) l->forget_keys(l->keys_ctx);
}

static void reload_everything(struct script_listener *l, const char *why)
{
    int rc = script_registry_reload_all(l->scripts);
    if (rc < 0)
        log_error("scripts reload failed", "reason=%s error=%s", why, strerror(-rc));
    else
        log_info("scripts reloaded", "reason=%s published=%d", why, rc);
}

static void on_change(struct script_listener *l, enum node_change what, int64_t project_id)
{
    if (what == NODE_CHANGE_KEYS) {
        keys_changed(l);
        return;
    }
    if (project_id == 0) {
        reload_everything(l, "notification");
        return;
    }
    int rc = script_registry_reload_project(l->scripts, project_id);
    if (rc < 0 && rc != -EINVAL) /* -EINVAL is logged by the registry */
        log_error("script reload failed", "project=%lld error=%s", (long long)project_id,
                  strerror(-rc));
}

static void *listener_main(void *arg)
{
    struct script_listener *l = arg;
    bool lost = false;
    while (!atomic_load(&l->stop)) {
        int64_t project_id = 0;
        enum node_change what;
        int rc = scripts_wait_changed(l->db, LISTEN_WAIT_MS, &what, &project_id);
        if (rc == 1) {
            on_change(l, what, project_id);
        } else if (rc == -ECONNRESET) {
            log_warn("script listener reconnected", NULL);
            lost = false;
            keys_changed(l); /* revocations may have been missed */
            reload_everything(l, "reconnect");
        } else if (rc < 0) {
            if (!lost)
                log_error("script listener lost the database, retrying", "error=%s",
                          db_errmsg(l->db));
            lost = true;
            pause_ms(RETRY_PAUSE_MS);
        }
    }
    return NULL;
}

int script_listener_start(const struct config *cfg, struct script_registry *scripts,
                          script_listener_keys_fn forget_keys, void *keys_ctx,
                          struct script_listener **out)
{
    *out = NULL;
    if (!cfg->postgres_enabled) return 0;
    struct script_listener *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->scripts = scripts;
    l->forget_keys = forget_keys;
    l->keys_ctx = keys_ctx;
    char err[256];
    int rc = db_open(cfg, &l->db, err, sizeof err);
    if (rc != 0) {
        log_error("script listener cannot connect", "error=%s", err);
        goto fail;
    }
    if ((rc = scripts_listen(l->db)) != 0) {
        log_error("script listener cannot LISTEN", "error=%s", db_errmsg(l->db));
        goto fail;
    }
    if ((rc = -pthread_create(&l->thread, NULL, listener_main, l)) != 0) goto fail;
    *out = l;
    return 0;
fail:
    db_close(l->db);
    free(l);
    return rc;
}

void script_listener_stop(struct script_listener *l)
{
    if (!l) return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    db_close(l->db);
    free(l);
}
