-- Issue 21: additive counters buffered per node and flushed every
-- COUNTER_FLUSH_MS (store/counters.h).

-- Events per issue and hour (hour: ms of the hour's start, by received_at):
-- what the issue list's 24 h histogram reads instead of scanning events.
-- Filled from the events already stored.
CREATE TABLE issue_hourly (
    issue_id    BIGINT  NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour        BIGINT  NOT NULL,
    events      BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_id, hour)
);
INSERT INTO issue_hourly (issue_id, hour, events)
    SELECT issue_id, received_at / 3600000 * 3600000, COUNT(*) FROM events
    GROUP BY issue_id, received_at / 3600000 * 3600000;

-- Per node, the newest of its events whose increments the counters hold: a
-- restart adds again what the node's events past it count.
CREATE TABLE counter_marks (
    node        INTEGER PRIMARY KEY,
    event_mark  BIGINT  NOT NULL,
    flushed_at  BIGINT  NOT NULL
);

-- The node that stored an event: the connection's periscope.node setting
-- (db_postgres.c passes it at connect), so that a restarted node reconciles
-- its own events only. Events stored before this have none and are counted.
ALTER TABLE events ADD COLUMN node INTEGER
    DEFAULT CAST(NULLIF(current_setting('periscope.node', true), '') AS INTEGER);
