-- Personal data scrubbing per project (src/scrub.h): on by default, IP
-- addresses kept by default, and the project's extra sensitive field names
-- and safe field names, each list stored as names joined by ',' (a name is
-- [A-Za-z0-9_-] only, so it never holds one); '' is the empty list.
ALTER TABLE projects ADD COLUMN scrub_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN scrub_ip_addresses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN scrub_sensitive_fields TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN scrub_safe_fields TEXT NOT NULL DEFAULT '';
