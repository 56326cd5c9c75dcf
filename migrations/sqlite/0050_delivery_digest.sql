-- A delivery the per-destination throttle held back: it goes out folded
-- into one digest with the others held for the same destination when the
-- throttle window ends (next_attempt_at).
ALTER TABLE deliveries ADD COLUMN held_for_digest INTEGER NOT NULL DEFAULT 0;
