"""`cmake --install` into a temporary prefix, the prefix moved somewhere
else, and the installed periscope run from a third directory: it finds its
Lua modules and migrations beside itself (never the source tree, whose path
is not even in the binary), migrates, groups and stores an event, and
`rules check` runs the installed examples. The systemd unit names the
installed binary and keeps its hardening."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from periscope_testlib import Server

BUILD = os.environ.get("PERISCOPE_BINARY_DIR",
                       os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))

UNIT_HARDENING = ["DynamicUser=yes", "StateDirectory=periscope", "ProtectSystem=strict",
                  "NoNewPrivileges=yes", "EnvironmentFile=-/etc/periscope/periscope.env"]


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="periscope-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(os.path.join(cls.prefix, "lib/systemd/system/periscope.service")) as f:
            cls.unit = f.read()
        # Relocated: only paths relative to the binary can still work.
        cls.root = os.path.join(cls.tmp, "moved", "opt-periscope")
        os.makedirs(os.path.dirname(cls.root))
        shutil.move(cls.prefix, cls.root)
        cls.bin = os.path.join(cls.root, "bin", "periscope")
        cls.share = os.path.join(cls.root, "share", "periscope")
        cls.cwd = os.path.join(cls.tmp, "elsewhere")
        os.makedirs(cls.cwd)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_installed(self, *args, **env):
        """The installed binary in the other directory, with nothing of the
        test suite's environment pointing at the sources."""
        full = {k: v for k, v in os.environ.items()
                if k not in ("LUA_DIR", "MIGRATIONS_DIR", "LUA_PATH", "LUA_CPATH")
                and not k.startswith("PERISCOPE_")}
        full.update(env)
        return subprocess.run([self.bin, *args], cwd=self.cwd, env=full, capture_output=True,
                              text=True, timeout=60)

    def test_the_layout_is_bin_and_share(self):
        for rel in ("share/periscope/lua/periscope/grouping.lua",
                    "share/periscope/lua/periscope/format.lua",
                    "share/periscope/migrations/sqlite/0001_init.sql",
                    "share/periscope/migrations/postgres/0001_init.sql",
                    "share/periscope/rules/default.lua",
                    "share/periscope/rules/examples/group_by_tag.lua",
                    "share/periscope/rules/examples/event.json",
                    "share/periscope/web/index.html",
                    "share/periscope/web/js/app.js",
                    "share/periscope/web/app.css"):
            self.assertTrue(os.path.isfile(os.path.join(self.root, rel)), rel)
        self.assertTrue(os.access(self.bin, os.X_OK))

    def test_the_binary_carries_no_source_or_build_path(self):
        with open(self.bin, "rb") as f:
            data = f.read()
        for path in (SOURCE, os.path.realpath(BUILD)):
            self.assertNotIn(path.encode(), data)

    def test_the_unit_runs_the_installed_binary_hardened(self):
        self.assertIn("ExecStart=%s/bin/periscope serve\n" % self.prefix, self.unit)
        for line in UNIT_HARDENING:
            self.assertIn(line + "\n", self.unit)

    def test_serves_from_another_directory_with_its_own_files(self):
        data = os.path.join(self.cwd, "data")
        os.makedirs(data)
        unset = {k: None for k in os.environ
                 if k in ("LUA_DIR", "MIGRATIONS_DIR", "LUA_PATH", "LUA_CPATH")
                 or k.startswith("PERISCOPE_")}
        srv = Server(binary=self.bin, cwd=self.cwd, data_dir=data, env=unset)
        srv.env["DATA_DIR"] = "data"  # relative to its working directory, as `make run` has it
        try:
            srv.start()
            files = [json.loads(l) for l in srv.stderr().splitlines()
                     if json.loads(l)["msg"] == "files"][0]
            self.assertEqual(files["share"], os.path.realpath(self.share))
            self.assertEqual(files["lua_dir"], os.path.realpath(self.share) + "/lua")
            self.assertEqual(files["migrations_dir"],
                             os.path.realpath(self.share) + "/migrations")
            self.assertNotIn(SOURCE, srv.stderr())
            web = [json.loads(l) for l in srv.stderr().splitlines()
                   if json.loads(l)["msg"] == "web interface"][0]
            self.assertEqual(web["dir"], os.path.realpath(self.share) + "/web")
            r = srv.request("GET", "/projects/1/issues")
            self.assertEqual(r.status, 200)
            self.assertIn(b"/static/js/app.js", r.body)
            self.assertTrue(os.path.exists(os.path.join(self.cwd, "data", "periscope.db")))
            # The grouping (Lua, from share/) runs: an event becomes an issue.
            key = srv.dsn.split("//")[1].split("@")[0]
            ev = {"event_id": uuid.uuid4().hex, "platform": "python",
                  "exception": {"values": [{"type": "KeyError", "value": "'sku'"}]}}
            r = srv.request("POST", "/api/1/store/", json.dumps(ev).encode(),
                            {"X-Sentry-Auth": "Sentry sentry_key=%s" % key})
            self.assertEqual(r.status, 200, r)
            deadline = time.monotonic() + 20
            issues = []
            while time.monotonic() < deadline and not issues:
                issues = srv.admin("GET", "/api/admin/projects/1/issues").json()["data"]
                time.sleep(0.05)
            self.assertEqual([i["title"] for i in issues], ["KeyError: 'sku'"])
        finally:
            srv.stop()

    def test_rules_check_runs_the_installed_examples(self):
        examples = os.path.join(self.share, "rules", "examples")
        r = self.run_installed("rules", "check", os.path.join(examples, "group_by_tag.lua"),
                               "--event", os.path.join(examples, "event.json"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["components"][-1], "acme")  # the tenant tag, from the example
        self.assertIn("slack_webhook", out["notifications"])  # format.lua from share/

    def test_lua_dir_and_migrations_dir_still_override(self):
        data = os.path.join(self.tmp, "override-data")
        r = self.run_installed("migrate", DATA_DIR=data, LUA_DIR="/nonexistent")
        self.assertEqual((r.returncode, r.stderr),
                         (2, 'periscope: invalid LUA_DIR="/nonexistent": not a directory\n'))
        r = self.run_installed("migrate", DATA_DIR=data, MIGRATIONS_DIR=self.cwd)
        self.assertEqual(r.returncode, 1)  # no sqlite/ in it: nothing to migrate with
        self.assertIn(self.cwd, r.stderr)
        r = self.run_installed("migrate", DATA_DIR=data, LUA_DIR=os.path.join(self.share, "lua"),
                               MIGRATIONS_DIR=os.path.join(self.share, "migrations"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(data, "periscope.db")))


if __name__ == "__main__":
    unittest.main()
