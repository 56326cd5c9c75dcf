"""Secrets, through the real server on both backends: a destination's
webhook headers, signing secret and SMTP password never follow a changed
address; with SECRETS_KEY (or DATA_DIR/secret.key) they are sealed in the
database, and rows stored in clear before the key keep working and are
sealed at start. On SQLite: DATA_DIR and the database files are private
whatever the umask, and a start on files others can read warns. An admin
key shorter than 32 characters stops start-up."""

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import unittest

from periscope_testlib import Server, free_port, pg_env, run_cli
from test_notifications import SECRET, Receiver

SECRETS_KEY = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"
TOKEN = "Bearer tok-at-rest-1234"


def stored_config(srv, dest_id):
    """The destinations.config column exactly as stored."""
    if srv.env.get("POSTGRES_ENABLED") == "true":
        env = dict(os.environ, PGPASSWORD=srv.env.get("POSTGRES_PASSWORD", ""))
        out = subprocess.run(
            ["psql", "-X", "-At", "-h", srv.env["POSTGRES_HOST"], "-p", srv.env["POSTGRES_PORT"],
             "-U", srv.env["POSTGRES_USER"], "-d", srv.env["POSTGRES_DATABASE"], "-c",
             "SELECT config FROM destinations WHERE id = %d" % dest_id],
            env=env, capture_output=True, text=True, check=True, timeout=30)
        return out.stdout.strip()
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(srv.data_dir, "periscope.db"),
                          uri=True, timeout=10)
    try:
        return con.execute("SELECT config FROM destinations WHERE id = ?", (dest_id,)).fetchone()[0]
    finally:
        con.close()


class SecretsBase:
    backend = None

    @classmethod
    def setUpClass(cls):
        cls.hooks = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.hooks.close()

    def start(self, env=None, **kw):
        srv = Server(backend=self.backend, env=env, **kw).start()
        self.addCleanup(srv.cleanup)
        return srv

    def project(self, srv):
        r = srv.admin("POST", "/api/admin/projects", {"name": "secrets"})
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def dests(self, pid):
        return "/api/admin/projects/%d/alert_notification_destinations" % pid

    def send_test(self, srv, pid, dest_id, path):
        r = srv.admin("POST", self.dests(pid) + "/%d/test" % dest_id)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["ok"], r)
        got = self.hooks.got(path)
        self.assertEqual(len(got), 1, got)
        return got[0]["headers"]

    def webhook(self, srv, pid, path):
        r = srv.admin("POST", self.dests(pid), {
            "type": "generic_webhook", "webhook_url": self.hooks.url(path), "secret": SECRET,
            "webhook_headers": {"Authorization": TOKEN}})
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def test_a_changed_webhook_url_gets_neither_the_headers_nor_the_signature(self):
        srv = self.start()
        pid = self.project(srv)
        base = "/moved-%s-" % self.backend
        d = self.webhook(srv, pid, base + "old")
        h = self.send_test(srv, pid, d, base + "old")
        self.assertEqual(h.get("authorization"), TOKEN)
        self.assertIn("webhook-signature", h)

        shown = srv.admin("GET", self.dests(pid) + "/%d" % d).json()
        r = srv.admin("PATCH", self.dests(pid) + "/%d" % d, {
            "webhook_url": self.hooks.url(base + "new"),
            "webhook_headers": shown["webhook_headers"], "secret": shown["secret"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["webhook_headers"], r.json()["secret"]), ({}, None))
        h = self.send_test(srv, pid, d, base + "new")
        self.assertNotIn("authorization", h)
        self.assertNotIn("webhook-signature", h)

        r = srv.admin("PATCH", self.dests(pid) + "/%d" % d, {
            "webhook_url": self.hooks.url(base + "again"),
            "webhook_headers": {"Authorization": "Bearer sent-again"}})
        self.assertEqual(r.status, 200, r)
        h = self.send_test(srv, pid, d, base + "again")
        self.assertEqual(h.get("authorization"), "Bearer sent-again")

    def test_a_changed_smtp_host_drops_the_password(self):
        srv = self.start()
        pid = self.project(srv)
        r = srv.admin("POST", self.dests(pid), {
            "type": "email", "smtp_url": "smtp://127.0.0.1:%d" % free_port(), "username": "u",
            "password": "pw", "from": "a@example.com", "to": "b@example.com"})
        self.assertEqual(r.status, 201, r)
        d = r.json()
        self.assertIsNotNone(d["password"])
        r = srv.admin("PATCH", self.dests(pid) + "/%d" % d["id"],
                      {"smtp_url": "smtp://localhost:25", "password": d["password"]})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["password"])
        self.assertEqual(r.json()["username"], "u")

    def test_with_a_secrets_key_destination_settings_are_sealed_at_rest(self):
        srv = self.start(env={"SECRETS_KEY": SECRETS_KEY})
        pid = self.project(srv)
        path = "/sealed-%s" % self.backend
        d = self.webhook(srv, pid, path)
        text = stored_config(srv, d)
        self.assertTrue(text.startswith("sealed:v1:"), text)
        for secret in ("tok-at-rest", SECRET, path):
            self.assertNotIn(secret, text)
        self.assertEqual(self.send_test(srv, pid, d, path).get("authorization"), TOKEN)

    def test_rows_stored_in_clear_keep_working_and_are_sealed_once_a_key_is_set(self):
        first = self.start()
        pid = self.project(first)
        path = "/legacy-%s" % self.backend
        d = self.webhook(first, pid, path)
        self.assertIn("tok-at-rest", stored_config(first, d))
        self.assertEqual(first.stop(), 0)
        if self.backend == "sqlite":  # the key file in DATA_DIR
            with open(os.path.join(first.data_dir, "secret.key"), "w") as f:
                f.write(SECRETS_KEY + "\n")
            os.chmod(os.path.join(first.data_dir, "secret.key"), 0o600)
            again = Server(data_dir=first.data_dir, env={"API_SECRET_KEY_ADMIN": first.admin_key})
        else:  # another node on the same database, with the key in its environment
            shared = {k: v for k, v in first.env.items() if k.startswith("POSTGRES_")}
            shared.update(API_SECRET_KEY_ADMIN=first.admin_key, SECRETS_KEY=SECRETS_KEY)
            again = Server(env=shared)
        again.start()
        try:
            self.assertIn("destination secrets sealed", again.stderr())
            self.assertTrue(stored_config(again, d).startswith("sealed:v1:"))
            self.assertEqual(self.send_test(again, pid, d, path).get("authorization"), TOKEN)
        finally:
            again.stop()
            if self.backend != "sqlite":
                again.cleanup()


class SecretsSqlite(SecretsBase, unittest.TestCase):
    backend = "sqlite"

    def test_database_files_are_private_whatever_the_umask_and_open_ones_warn(self):
        # (DATA_DIR made 0700 is test_config's: the helper needs it to exist.)
        data = tempfile.mkdtemp(prefix="periscope-modes-")
        self.addCleanup(shutil.rmtree, data, True)
        old = os.umask(0)
        try:
            srv = Server(data_dir=data).start()
        finally:
            os.umask(old)
        self.addCleanup(srv.cleanup)
        r = srv.admin("POST", "/api/admin/projects", {"name": "modes"})
        self.assertEqual(r.status, 201, r)  # a write: -wal and -shm are there
        db = os.path.join(data, "periscope.db")
        modes = {p: stat.S_IMODE(os.stat(p).st_mode)
                 for p in (data, db, db + "-wal", db + "-shm")}
        self.assertEqual(modes, {data: 0o700, db: 0o600, db + "-wal": 0o600, db + "-shm": 0o600})
        self.assertNotIn("readable by other users", srv.stderr())
        self.assertEqual(srv.stop(), 0)

        os.chmod(data, 0o755)
        os.chmod(db, 0o644)
        again = Server(data_dir=data, env={"API_SECRET_KEY_ADMIN": srv.admin_key}).start()
        self.addCleanup(again.cleanup)
        warned = {json.loads(line)["path"] for line in again.stderr().splitlines()
                  if "readable by other users" in line}
        # -wal and -shm, made anew at this start, take the database's mode.
        self.assertTrue({data, db} <= warned <= {data, db, db + "-wal", db + "-shm"}, warned)

    def test_an_admin_key_under_32_characters_stops_start_up_with_one_line(self):
        data = tempfile.mkdtemp(prefix="periscope-key-")
        self.addCleanup(shutil.rmtree, data, True)
        key = "short-admin-key"
        r = run_cli("serve", env={"API_SECRET_KEY_ADMIN": key, "DATA_DIR": data,
                                  "PORT": str(free_port()), "HOST": "127.0.0.1"}, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("API_SECRET_KEY_ADMIN", r.stderr)
        self.assertNotIn(key, r.stderr + r.stdout)


@unittest.skipIf(pg_env() is None, "no Postgres test cluster")
class SecretsPostgres(SecretsBase, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
