"""`periscope serve` at start-up: a port another server listens on is
refused (exit 1, one line naming the address, no database touched), and the
server already there keeps answering every request."""

import os
import shutil
import subprocess
import tempfile
import unittest

from periscope_testlib import BIN, Server


class TakenPort(unittest.TestCase):
    def test_a_second_server_on_a_taken_port_exits_1_naming_the_address(self):
        with Server() as first:
            other = tempfile.mkdtemp(prefix="periscope-e2e-second-")
            try:
                env = dict(os.environ, HOST="127.0.0.1", PORT=str(first.port), DATA_DIR=other,
                           API_SECRET_KEY_ADMIN="the-second-servers-key-0123456789abcdef", LOG_FORMAT="json")
                for k in ("PUBLIC_URL", "SQLITE_PATH", "POSTGRES_ENABLED"):
                    env.pop(k, None)
                second = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True,
                                        timeout=60)
                self.assertEqual(second.returncode, 1, second)
                self.assertEqual(second.stderr,
                                 "periscope: cannot listen on 127.0.0.1:%d: address already in "
                                 "use\n" % first.port)
                self.assertNotIn("listening", second.stdout)
                self.assertNotIn("DSN", second.stdout)
                self.assertFalse(os.path.exists(os.path.join(other, "periscope.db")))
            finally:
                shutil.rmtree(other, ignore_errors=True)
            # Only the first server is there: every call is its, none the other's.
            for _ in range(20):
                self.assertEqual(first.admin("GET", "/api/admin/projects").status, 200)
                self.assertEqual(first.admin("GET", "/api/admin/projects",
                                             token="the-second-servers-key").status, 401)


if __name__ == "__main__":
    unittest.main()
