-- Issue 21: additive counters buffered per node and flushed every
-- COUNTER_FLUSH_MS (store/counters.h).

-- Events per issue and hour (hour: ms of the hour's start, by received_at):
-- what the issue list's 24 h histogram reads instead of scanning events.
-- Filled from the events already stored.
CREATE TABLE issue_hourly (
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour        BIGINT  NOT NULL,
    events      BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
INSERT INTO issue_hourly (issue_id, hour, events)
    SELECT issue_id, received_at / 3600000 * 3600000, COUNT(*) FROM events
    GROUP BY issue_id, received_at / 3600000 * 3600000;

-- Per node, the newest event whose increments the counters hold: a restart
-- adds again what the events past it count. SQLite has one node (0); the
-- events stored so far are counted already.
CREATE TABLE counter_marks (
    node        INTEGER PRIMARY KEY,
    event_mark  BIGINT  NOT NULL,
    flushed_at  BIGINT  NOT NULL
);
INSERT INTO counter_marks (node, event_mark, flushed_at)
    SELECT 0, COALESCE(MAX(id), 0), 0 FROM events;
