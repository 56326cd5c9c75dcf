"""README.md is exact: every code block in it runs, as written, against a
real server, in the order a reader meets them.

The setting is the reader's after `make run` in a checkout: the server was
started without API_SECRET_KEY_ADMIN (so `data/admin.key` holds the key),
the working directory has `data/` and `rules/`, and `periscope` is on PATH
(as after `make install`). Two substitutions only, because the server of a
test cannot own port 8000: `127.0.0.1:8000` becomes the test server's
address, and the example DSN `http://3f1c…e09a@127.0.0.1:8000/1` the real
DSN of project 1.

- ```sh blocks run one after the other in ONE bash session (variables,
  aliases and files carry over, as in the reader's terminal), with
  `set -eo pipefail`, and `curl` made to fail on an HTTP error status
  (--fail-with-body), so a 401 or 404 fails the test instead of printing.
- ```python blocks run with an interpreter that has sentry_sdk; the SDK
  example must produce its issue; a block defining verify() is checked
  against a real signed webhook request from the server.
- the ```js block passes `node --check`, then runs with the pinned
  @sentry/node and must produce its issue.
- ```lua blocks (operator script examples) pass `periscope rules check`.
- A block preceded by `<!-- readme-test: skip (reason) -->` is not run;
  the reason is required. Blocks without a language are sample output.
"""

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

from periscope_testlib import BIN, Server
from ingest_util import python_with_sentry_sdk

SOURCE = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("PERISCOPE_BINARY_DIR", os.path.join(SOURCE, "build"))
README = os.path.join(SOURCE, "README.md")
EXAMPLE_DSN = "http://3f1c…e09a@127.0.0.1:8000/1"
SKIP = re.compile(r"^<!-- readme-test: skip \((?P<why>[^)]+)\) -->$")
RUN_LANGS = {"sh", "python", "js", "lua"}
BLOCK_TIMEOUT_S = 120


class Block:
    def __init__(self, lang, text, line, skip):
        self.lang, self.text, self.line, self.skip = lang, text, line, skip

    def __repr__(self):
        return "README.md:%d (%s)" % (self.line, self.lang or "text")


def readme_blocks():
    """Every fenced block of the README, with the skip marker before it."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = SKIP.match(prev.strip())
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        blocks.append(Block(m.group(1), "\n".join(lines[i + 1:end]) + "\n", i + 1,
                            skip.group("why") if skip else None))
        i = end + 1
    return blocks


class Shell:
    """One bash session fed block after block."""

    def __init__(self, cwd, env):
        self.cwd = cwd
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                                     env=env, text=True)
        self.proc.stdin.write('set -eo pipefail\nshopt -s expand_aliases\n'
                              'curl() { command curl --fail-with-body "$@"; }\n')

    def run(self, block, text):
        path = os.path.join(self.cwd, ".readme-block-%d.sh" % block.line)
        with open(path, "w") as f:
            f.write(text)
        marker = "::readme-block-done-%s::" % uuid.uuid4().hex
        self.proc.stdin.write("source %s\necho\necho %s\n" % (path, marker))
        self.proc.stdin.flush()
        timer = threading.Timer(BLOCK_TIMEOUT_S, self.proc.kill)
        timer.start()
        out = []
        try:
            for line in self.proc.stdout:
                if line.strip() == marker:
                    return "".join(out)
                out.append(line)
        finally:
            timer.cancel()
        raise AssertionError("%r failed (bash exited with %s):\n%s\n--- output:\n%s" %
                             (block, self.proc.wait(), text, "".join(out)[-4000:]))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()


class WebhookCatcher:
    """A local receiver that keeps the first request it gets."""

    def __init__(self):
        got = self.got = {}
        ready = self.ready = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                got["headers"] = {k.lower(): v for k, v in self.headers.items()}
                got["body"] = self.rfile.read(n)
                self.send_response(204)
                self.end_headers()
                ready.set()

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Readme(unittest.TestCase):
    def test_every_block_is_run_or_says_why_not(self):
        blocks = readme_blocks()
        for b in blocks:
            if b.lang and b.lang not in RUN_LANGS:
                self.assertIsNotNone(b.skip, "%r: a %s block the test cannot run needs a "
                                             "readme-test skip marker with a reason" % (b, b.lang))
        run = [b for b in blocks if b.lang in RUN_LANGS and not b.skip]
        self.assertGreaterEqual(len([b for b in run if b.lang == "sh"]), 7)
        self.assertEqual(len([b for b in run if b.lang == "js"]), 1)
        self.assertEqual(len([b for b in run if b.lang == "python"]), 2)

    def test_every_snippet_runs_as_written(self):
        tmp = tempfile.mkdtemp(prefix="periscope-readme-")
        checkout = os.path.join(tmp, "checkout")
        bindir = os.path.join(tmp, "bin")
        os.makedirs(os.path.join(checkout, "data"))
        os.makedirs(bindir)
        os.symlink(os.path.join(SOURCE, "rules"), os.path.join(checkout, "rules"))
        os.symlink(os.path.abspath(BIN), os.path.join(bindir, "periscope"))
        srv = Server(data_dir=os.path.join(checkout, "data"), cwd=checkout,
                     env={"API_SECRET_KEY_ADMIN": None, "NOTIFY_TIMEOUT_MS": "2000",
                          "NOTIFY_CONNECT_TIMEOUT_MS": "1000"})
        srv.env["DATA_DIR"] = "data"
        shell = catcher = None
        try:
            srv.start()
            env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
            for k in ("API_SECRET_KEY_ADMIN", "P", "KEY", "LUA_DIR", "MIGRATIONS_DIR"):
                env.pop(k, None)
            shell = Shell(checkout, env)
            catcher = WebhookCatcher()
            ran = {"sh": 0, "python": 0, "js": 0, "lua": 0}
            for b in readme_blocks():
                if b.skip or b.lang not in RUN_LANGS:
                    continue
                # In order, stopping at the first failure: later blocks build on it.
                getattr(self, "run_" + b.lang)(b, self.substitute(b, srv), srv, shell, checkout,
                                               catcher)
                ran[b.lang] += 1
            self.assertTrue(all(ran.values()), ran)
        finally:
            if shell:
                shell.close()
            if catcher:
                catcher.close()
            srv.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    # -- one kind of block each ------------------------------------------

    def substitute(self, block, srv):
        text = block.text
        if block.lang in ("python", "js") and "sentry" in text.lower():
            self.assertIn(EXAMPLE_DSN, text, "%r: the SDK example uses the example DSN" % block)
            text = text.replace(EXAMPLE_DSN, srv.dsn)
        return text.replace("127.0.0.1:8000", "127.0.0.1:%d" % srv.port)

    def run_sh(self, block, text, srv, shell, checkout, catcher):
        shell.run(block, text)

    def run_python(self, block, text, srv, shell, checkout, catcher):
        path = os.path.join(checkout, ".readme-block-%d.py" % block.line)
        with open(path, "w") as f:
            f.write(text)
        python = python_with_sentry_sdk()
        self.assertIsNotNone(python, "no python3 with sentry_sdk (python3-sentry-sdk)")
        r = subprocess.run([python, path], cwd=checkout, capture_output=True, text=True,
                           timeout=BLOCK_TIMEOUT_S)
        self.assertEqual(r.returncode, 0, "%r:\n%s%s" % (block, r.stdout, r.stderr))
        if "sentry_sdk.init" in text:
            self.wait_issue(srv, "ZeroDivisionError: division by zero")
        if "def verify(" in text:
            self.check_verify(text, srv, catcher)

    def run_js(self, block, text, srv, shell, checkout, catcher):
        path = os.path.join(checkout, ".readme-block-%d.js" % block.line)
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run(["node", "--check", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "%r is not valid JavaScript:\n%s" % (block, r.stderr))
        modules = os.path.join(BUILD, "node", "node_modules")
        self.assertTrue(os.path.isdir(os.path.join(modules, "@sentry", "node")),
                        "@sentry/node not installed: scripts/deps.sh --test")
        r = subprocess.run(["node", path], cwd=checkout, capture_output=True, text=True,
                           timeout=BLOCK_TIMEOUT_S, env=dict(os.environ, NODE_PATH=modules))
        self.assertEqual(r.returncode, 0, "%r:\n%s%s" % (block, r.stdout, r.stderr))
        self.wait_issue(srv, "Error: something broke")

    def run_lua(self, block, text, srv, shell, checkout, catcher):
        path = os.path.join(checkout, ".readme-block-%d.lua" % block.line)
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([BIN, "rules", "check", path, "--event",
                            os.path.join(SOURCE, "rules", "examples", "event.json")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "%r:\n%s%s" % (block, r.stdout, r.stderr))

    # -- checks ------------------------------------------------------------

    def wait_issue(self, srv, title):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = srv.admin("GET", "/api/admin/projects/1/issues?status=all&limit=100")
            if title in [i["title"] for i in r.json()["data"]]:
                return
            time.sleep(0.1)
        self.fail("no issue %r after the SDK example ran" % title)

    def check_verify(self, text, srv, catcher):
        """The README's verify() accepts a real signed request, and only it."""
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        r = srv.admin("POST", "/api/admin/projects/1/alert_notification_destinations",
                      {"type": "generic_webhook", "name": "readme-verify", "secret": secret,
                       "webhook_url": "http://127.0.0.1:%d/hook" % catcher.port})
        self.assertEqual(r.status, 201, r)
        r = srv.admin("POST", "/api/admin/projects/1/alert_notification_destinations/%d/test"
                      % r.json()["id"])
        self.assertTrue(r.json()["ok"], r)
        self.assertTrue(catcher.ready.wait(30))
        namespace = {}
        exec(compile(text, "README verify()", "exec"), namespace)
        headers, body = catcher.got["headers"], catcher.got["body"]
        self.assertTrue(namespace["verify"](secret, headers, body))
        self.assertFalse(namespace["verify"](secret, headers, body + b" "))
        self.assertFalse(namespace["verify"]("whsec_" + base64.b64encode(b"x" * 24).decode(),
                                             headers, body))


if __name__ == "__main__":
    unittest.main()
