"""Shared helpers for the playground tests: a fake channel and a WebSocket conversation."""

from __future__ import annotations

import json

ORIGIN = {"origin": "http://testserver"}


class FakeChannel:
    """Collects what a worker publishes, in the calling thread."""

    def __init__(self):
        self.messages, self.frames, self.errors = [], [], []

    def put_message(self, obj):
        self.messages.append(obj if isinstance(obj, dict) else json.loads(obj))

    def put_frame(self, kind, text):
        self.frames.append(json.loads(text))

    def error(self, message):
        self.errors.append(str(message))


def until(ws, predicate, limit=2000):
    """Read messages until ``predicate(msg)`` holds; return that message."""
    for _ in range(limit):
        msg = json.loads(ws.receive_text())
        if predicate(msg):
            return msg
    raise AssertionError("the expected message never came")


def send(ws, **msg):
    ws.send_text(json.dumps(msg))


def wait_for(predicate, limit=20.0):
    """Poll ``predicate`` until it is true (True) or ``limit`` seconds pass (False)."""
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def export_files(page, folder):
    """Press the page's export button and save the two files it downloads into ``folder``;
    return ``{name: path}``."""
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    page.click("#export")
    for _ in range(600):  # a busy machine may take a while
        if len(downloads) == 2:
            break
        page.wait_for_timeout(100)
    files = {}
    for d in downloads:
        files[d.suggested_filename] = folder / d.suggested_filename
        d.save_as(files[d.suggested_filename])
    return files
