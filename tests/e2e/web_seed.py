"""Fills a project with N issues in bulk SQL, on the store's own schema
(tables of migrations/sqlite and migrations/postgres), for the browser
test's 100,000-issue timing (issue 18). Sending them through the SDK and the
server would take minutes; writing the rows the writer would write takes
seconds. Each issue gets what the writer keeps for it, spread as a real
project's would be:

  issues        title "<Type>: <message> <i>" over 12 exception types, culprit
                over 400 functions in 40 modules, a log message on the info
                issues (an exception's event has none); level error 70 %,
                warning 20 %, info 8 %, fatal 2 %; every 5th resolved, every
                10th ignored; last seen spread over 10 days (newest first),
                first seen up to 30 days before; 1-5,000 events; users;
                first/last release
  issue_hashes  the issue's hash (ingest looks events up there)
  issue_tags    environment (production/staging/dev) and release
  issue_hourly  the 24 h histogram of the issues seen in the last day
  releases      the 20 versions the issues name

The server may be running (SQLite in WAL mode; Postgres). As a bulk load
is done, the secondary indexes of issues are dropped first and created
again afterwards from their own definitions, read from the schema
(sqlite_master, pg_indexes): the same indexes, built once instead of row by
row. Postgres gets ANALYZE afterwards, as its autovacuum would.
"""
import os
import sqlite3
import subprocess
import time

TYPES = ["ValueError", "KeyError", "TypeError", "ZeroDivisionError", "AttributeError",
         "IndexError", "RuntimeError", "TimeoutError", "ConnectionError", "PermissionError",
         "UnicodeDecodeError", "AssertionError"]

HOUR = 3600000


def _sql(dialect, project_id, n, now_ms):
    hexhash = "printf('%032x', 1000000 + s.i)" if dialect == "sqlite" else "lpad(to_hex(1000000 + s.i), 32, '0')"
    types = " ".join("WHEN %d THEN '%s'" % (k, t) for k, t in enumerate(TYPES))
    p = int(project_id)
    series = "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)" % (int(n) - 1)
    if dialect == "postgres":
        series = "WITH s(i) AS (SELECT generate_series(CAST(0 AS BIGINT), %d))" % (int(n) - 1)
    last = "%d - s.i * 8640" % now_ms  # newest first, 10 days for 100,000
    return [
        series + """
        INSERT INTO issues (project_id, hash, title, culprit, message, level, status, first_seen,
                            last_seen, times_seen, user_count, first_release, last_release)
        SELECT {p}, {hexhash},
               (CASE s.i % 12 {types} END) || ': could not process order ' || s.i,
               'app.module' || (s.i % 40) || ' in handle_' || (s.i % 400),
               CASE WHEN s.i % 10 = 9 THEN 'could not process order ' || s.i || ' for tenant t' || (s.i % 500)
                    ELSE '' END,
               CASE WHEN s.i % 50 = 7 THEN 'fatal' WHEN s.i % 10 < 7 THEN 'error'
                    WHEN s.i % 10 < 9 THEN 'warning' ELSE 'info' END,
               CASE WHEN s.i % 5 = 0 THEN 'resolved' WHEN s.i % 10 = 5 THEN 'ignored'
                    ELSE 'unresolved' END,
               {last} - (s.i * 7919 % 30) * 86400000, {last},
               1 + (s.i * 7919) % 5000, (s.i * 7919) % 5000 / 3,
               '1.' || (s.i % 20) || '.0', '1.' || ((s.i + 3) % 20) || '.0'
        FROM s""".format(p=p, hexhash=hexhash, types=types, last=last),
        """INSERT INTO issue_hashes (project_id, hash, issue_id, created_at)
           SELECT project_id, hash, id, first_seen FROM issues WHERE project_id = %d""" % p,
        """INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen)
           SELECT id, 'environment', CASE WHEN id % 10 < 6 THEN 'production'
                  WHEN id % 10 < 9 THEN 'staging' ELSE 'dev' END, times_seen, last_seen
           FROM issues WHERE project_id = {p}""".format(p=p),
        """INSERT INTO issue_tags (issue_id, key, value, times_seen, last_seen)
           SELECT id, 'release', last_release, times_seen, last_seen FROM issues WHERE project_id = {p}""".format(p=p),
        # Three hours of the last day for each issue seen in it.
        """INSERT INTO issue_hourly (issue_id, hour, events)
           SELECT id, last_seen / {h} * {h} - k.k * {h}, 1 + (id * 31 + k.k * 7) % 40
           FROM issues, (SELECT 0 AS k UNION ALL SELECT 2 UNION ALL SELECT 5) k
           WHERE project_id = {p} AND last_seen > {since}""".format(h=HOUR, p=p, since=now_ms - 86400000),
        """INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues)
           SELECT {p}, last_release, MIN(first_seen), MAX(last_seen), SUM(times_seen), COUNT(*)
           FROM issues WHERE project_id = {p} GROUP BY last_release""".format(p=p),
    ]


def seed_sqlite(db_path, project_id, n):
    now_ms = int(time.time() * 1000)
    db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA cache_size = -131072")
        db.execute("BEGIN IMMEDIATE")
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                             " AND tbl_name = 'issues' AND sql IS NOT NULL").fetchall()
        for name, _ in indexes:
            db.execute('DROP INDEX "%s"' % name)
        for stmt in _sql("sqlite", project_id, n, now_ms):
            db.execute(stmt)
        for _, sql in indexes:
            db.execute(sql)
        db.execute("COMMIT")
    finally:
        db.close()


PG_DROP = """
CREATE TEMP TABLE web_seed_indexes ON COMMIT DROP AS
  SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'issues'
  AND indexname NOT IN (SELECT conname FROM pg_constraint);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM web_seed_indexes LOOP EXECUTE 'DROP INDEX ' || quote_ident(r.indexname); END LOOP;
END $$;
SET LOCAL maintenance_work_mem = '128MB';
"""
PG_CREATE = """;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM web_seed_indexes LOOP EXECUTE r.indexdef; END LOOP;
END $$;
"""


def seed_postgres(pg, project_id, n):
    """pg: the server's POSTGRES_* settings (Server.env)."""
    now_ms = int(time.time() * 1000)
    sql = "BEGIN;\n" + PG_DROP + ";\n".join(_sql("postgres", project_id, n, now_ms)) + ";\n" + PG_CREATE + "COMMIT;\n" \
        "ANALYZE issues; ANALYZE issue_hashes; ANALYZE issue_tags; ANALYZE issue_hourly;\n"
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg["POSTGRES_HOST"],
                    "-p", pg["POSTGRES_PORT"], "-U", pg["POSTGRES_USER"], "-d", pg["POSTGRES_DATABASE"]],
                   input=sql.encode(), env=dict(os.environ, PGPASSWORD=pg.get("POSTGRES_PASSWORD", "")),
                   check=True, stdout=subprocess.DEVNULL, timeout=300)
