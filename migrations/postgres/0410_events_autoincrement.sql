-- Issue 21: event ids are never reused (the counter flush mark relies on it,
-- store/counters.h). On SQLite the events table gains AUTOINCREMENT; here
-- events.id comes from a sequence, which never hands out an id twice.
SELECT 1;
