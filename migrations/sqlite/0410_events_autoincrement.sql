-- Issue 21: event ids are never reused. The counter flush mark
-- (counter_marks, store/counters.h) is the newest event id whose increments
-- the counters hold, and a restart counts again the events past it. A plain
-- INTEGER PRIMARY KEY hands out MAX(id) + 1, so once retention (or a
-- project's deletion) removed the newest events, new events took ids at or
-- below the mark and a crash before the next flush left them uncounted.
-- AUTOINCREMENT keeps ids above every id ever used (sqlite_sequence).
-- SQLite cannot add it to a table: the table is copied.
CREATE TABLE events_next (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event_id    BLOB    NOT NULL,                    -- 16 bytes
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    timestamp   BIGINT  NOT NULL,                    -- the event's own time
    received_at BIGINT  NOT NULL,
    level       TEXT    NOT NULL DEFAULT 'error',
    environment TEXT,
    release     TEXT,
    title       TEXT    NOT NULL DEFAULT '',
    payload     BLOB    NOT NULL,                    -- normalized event JSON, zstd level 1
    hash        TEXT,
    UNIQUE (project_id, event_id)
);
INSERT INTO events_next (id, project_id, event_id, issue_id, timestamp, received_at, level,
                         environment, release, title, payload, hash)
    SELECT id, project_id, event_id, issue_id, timestamp, received_at, level,
           environment, release, title, payload, hash FROM events ORDER BY id;
-- Ids continue past the counter marks too (a mark may be above every event
-- left, when retention emptied the table).
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events_next', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events_next');
UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(event_mark), 0) FROM counter_marks))
    WHERE name = 'events_next';
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;
CREATE INDEX events_issue ON events(issue_id, id);
CREATE INDEX events_received ON events(received_at);
