/* file_modes — warn about secrets others may read (file_modes.h). */
#include "base/file_modes.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/config.h"
#include "base/log.h"

/* 1 when path exists and others have any access to it (warned), else 0. */
static int warn_if_open(const char *path, bool dir)
{
    struct stat st;
    if (stat(path, &st) != 0 || !(st.st_mode & S_IRWXO)) return 0;
    log_warn("file readable by other users: it holds secrets", "path=%s mode=%04o fix=chmod %s",
             path, (unsigned)(st.st_mode & 07777), dir ? "700" : "600");
    return 1;
}

int file_modes_warn(const struct config *cfg)
{
    static const char *const data_files[] = {"admin.key", "secret.key"};
    static const char *const db_suffixes[] = {"", "-wal", "-shm"};
    char path[PATH_MAX];
    int n = warn_if_open(cfg->data_dir, true);
    for (size_t i = 0; i < sizeof data_files / sizeof *data_files; i++) {
        snprintf(path, sizeof path, "%s/%s", cfg->data_dir, data_files[i]);
        n += warn_if_open(path, false);
    }
    if (cfg->postgres_enabled) return n;
    for (size_t i = 0; i < sizeof db_suffixes / sizeof *db_suffixes; i++) {
        snprintf(path, sizeof path, "%s%s", cfg->sqlite_path, db_suffixes[i]);
        n += warn_if_open(path, false);
    }
    return n;
}
