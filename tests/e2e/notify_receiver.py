"""A real local webhook receiver for the notification tests.

    python3 notify_receiver.py --port-file F --log L [--secret S] [--script 500,429:1,hang,204]

Listens on 127.0.0.1 (a free port, written to --port-file once listening),
answers request number i with script[i] (the last entry repeats; default
204): a status code, "429:<seconds>" for a 429 with Retry-After, or "hang"
(holds the request for up to 30 s without answering). Each request is
appended to --log as one JSON line: time, path, headers, body, and
sig_ok — the Standard Webhooks signature verified here, independently of
the server (null when unsigned or no --secret).
"""
import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret, headers, body):
    sig = headers.get("webhook-signature")
    if not sig or not secret:
        return None
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    signed = "%s.%s.%s" % (headers.get("webhook-id"), headers.get("webhook-timestamp"), body)
    expected = "v1," + base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in sig.split(" "))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret")
    ap.add_argument("--script", default="204")
    args = ap.parse_args()
    script = args.script.split(",")
    lock = threading.Lock()
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8", "replace")
            with lock:
                i = count[0]
                count[0] += 1
                step = script[min(i, len(script) - 1)]
                with open(args.log, "a") as f:
                    f.write(json.dumps({"n": i, "t": time.time(), "path": self.path,
                                        "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": body, "sig_ok": verify(args.secret, self.headers, body)}) + "\n")
            if step == "hang":
                time.sleep(30)
                return
            code, _, retry_after = step.partition(":")
            self.send_response(int(code))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
