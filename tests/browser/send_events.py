"""Sends real Python SDK (sentry_sdk) events for the browser tests.

    python3 send_events.py DSN KIND

KIND: "app" (a ZeroDivisionError with in-app frames, local variables and
breadcrumbs; a KeyError; a warning message), "deep" (an exception 200
frames deep), "rule" (an event carrying the tag checkout=rules-test, for a
script that groups on it). Prints {"sent": [event ids]}.
"""
import json
import sys

import sentry_sdk

sent = []


def keep(event, hint):
    sent.append(event["event_id"])
    return event


def compute_total(items, discount):
    subtotal = sum(i["price"] for i in items)
    return subtotal / discount  # discount 0: ZeroDivisionError


def checkout(cart):
    return compute_total(cart["items"], cart["discount"])


def find_user(users, name):
    return users[name]


def recurse(n):
    if n == 0:
        raise RecursionError("deep stack for the timing test")
    return recurse(n - 1)


def main():
    dsn, kind = sys.argv[1], sys.argv[2]
    sentry_sdk.init(dsn, before_send=keep, release="shop@1.4.0", environment="production",
                    server_name="web-1", with_locals=True, max_breadcrumbs=50)
    sentry_sdk.set_user({"id": "42", "email": "ada@example.com"})
    if kind == "app":
        sentry_sdk.add_breadcrumb(category="http", message="GET /cart 200", level="info")
        sentry_sdk.add_breadcrumb(category="ui.click", message="button#pay", level="info")
        try:
            checkout({"items": [{"price": 10}, {"price": 5}], "discount": 0})
        except ZeroDivisionError:
            sentry_sdk.capture_exception()
        try:
            find_user({"ada": 1}, "grace")
        except KeyError:
            sentry_sdk.capture_exception()
        sentry_sdk.capture_message("Disk almost full on web-1", level="warning")
    elif kind == "deep":
        try:
            recurse(199)
        except RecursionError:
            sentry_sdk.capture_exception()
    elif kind == "rule":
        sentry_sdk.set_tag("checkout", "rules-test")
        try:
            checkout({"items": [{"price": 1}], "discount": 0})
        except ZeroDivisionError:
            sentry_sdk.capture_exception()
    else:
        raise SystemExit("unknown kind " + kind)
    sentry_sdk.flush(timeout=10)
    print(json.dumps({"sent": sent}))


main()
