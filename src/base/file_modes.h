/* file_modes — a start-up check that the files holding secrets are not
 * open to everyone: DATA_DIR, the SQLite database and its -wal/-shm files
 * (webhook tokens, SMTP passwords, events), admin.key and secret.key. Each
 * one others may read, write or enter gets one warning line naming it and
 * the chmod that fixes it; nothing is changed and start-up goes on.
 *
 * main() only, after the log is set up and the store is open. */
#ifndef PERISCOPE_FILE_MODES_H
#define PERISCOPE_FILE_MODES_H

struct config;

/* Returns the number of warnings logged. */
int file_modes_warn(const struct config *cfg);

#endif
