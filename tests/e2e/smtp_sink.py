"""A real local SMTP server for the notification tests (aiosmtpd).

    python3 smtp_sink.py --port-file F --dir D

Listens on 127.0.0.1 (a free port, written to --port-file once listening)
and stores each message it accepts as D/<n>.eml, preceded by one line
"X-Rcpt-To: a@x, b@y" with the envelope recipients. Runs until killed."""
import argparse
import os
import socket
import threading

from aiosmtpd.controller import Controller


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    count = [0]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                count[0] += 1
                n = count[0]
            tmp = os.path.join(args.dir, "%d.tmp" % n)
            with open(tmp, "wb") as f:
                f.write(b"X-Rcpt-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
                f.write(envelope.original_content or envelope.content)
            os.rename(tmp, os.path.join(args.dir, "%d.eml" % n))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Event().wait()


if __name__ == "__main__":
    main()
