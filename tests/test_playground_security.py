"""torchann playground's security rules: its own Host and Origin only, capped uploads and
settings, no file paths, and malformed messages answered without harm."""

from __future__ import annotations

import base64
import json

import pytest
from playground_helpers import ORIGIN, send, until
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from torchann.errors import TorchannError
from torchann.playground.code import Config
from torchann.playground.race import RaceConfig
from torchann.playground.server import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app({"testserver"}, max_pages=3)) as c:
        yield c


def _error(ws):
    return until(ws, lambda m: m["type"] == "error")["message"]


def _still_works(ws, version=99):
    send(ws, type="config", config={}, version=version)
    return until(ws, lambda m: m["type"] == "frame" and m["version"] == version)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io"])
def test_a_foreign_host_is_refused(client, host):
    # a DNS-rebinding page reaches 127.0.0.1 under its own name, which it cannot hide
    for path in ("/", "/static/app.js"):
        r = client.get(path, headers={"host": host})
        assert r.status_code == 403, path
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"host": host, **ORIGIN}) as ws:
            ws.receive_text()


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null",
                                    "https://testserver", "http://testserver.evil.example"])
def test_a_websocket_from_another_origin_is_refused(client, origin):
    headers = {} if origin is None else {"origin": origin}
    with pytest.raises(WebSocketDisconnect) as err:
        with client.websocket_connect("/ws", headers=headers) as ws:
            ws.receive_text()
    assert err.value.code == 1008


def test_a_cross_site_request_is_refused(client):
    assert client.get("/", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.get("/", headers=ORIGIN).status_code == 200


@pytest.mark.parametrize("kind, name, size, limit", [
    ("csv", "big.csv", 1_000_001, "1,000,000"),
    ("race_upload", "big.png", 4_000_001, "4,000,000"),
])
def test_an_oversized_upload_is_refused_before_decoding(client, kind, name, size, limit):
    data = base64.b64encode(b"1" * size).decode()
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type=kind, name=name, data=data, config={})
        assert limit in _error(ws)
        _still_works(ws)


@pytest.mark.parametrize("settings, word", [
    ({"layers": [4] * 7}, "layers"),
    ({"layers": [17]}, "neurons"),
    ({"layers": [10 ** 12]}, "neurons"),
    ({"n": 10 ** 9}, "n "),
    ({"batch": -1}, "batch"),
    ({"lr": 1e9}, "lr"),
    ({"lr": float("nan")}, "lr"),
    ({"noise": "0.3"}, "noise"),
    ({"features": []}, "features"),
    ({"features": ["x3"]}, "feature"),
    ({"act": "gelu"}, "act"),
    ({"speed": 10 ** 6}, "speed"),
    ({"seed": True}, "seed"),
    ({"path": "/etc/passwd"}, "unknown setting"),
])
def test_absurd_settings_are_refused(client, settings, word):
    with pytest.raises(TorchannError, match=word):
        Config.from_dict(settings)
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="config", config=settings, version=1)
        assert word.strip() in _error(ws)
        _still_works(ws)


@pytest.mark.parametrize("settings", [{"steps": 10 ** 9}, {"speed": 0}, {"a_lr": -1},
                                      {"a_method": "newton"}, {"file": "/etc/passwd"}])
def test_absurd_race_settings_are_refused(settings):
    with pytest.raises(TorchannError):
        RaceConfig.from_dict(settings)


@pytest.mark.parametrize("message, word", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"kind": "config"}', "JSON object"),
    ('{"type": "launch"}', "unknown message type"),
    ('{"type": "config", "config": "all"}', "JSON object"),
    ('{"type": "config", "config": {}, "version": "x"}', "version"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ('{"type": "csv", "name": "a.csv", "data": "@@@"}', "base64"),
    ('{"type": "csv", "path": "/etc/passwd", "config": {}}', "base64"),
    ('{"type": "race_upload", "path": "/etc/passwd", "config": {}}', "base64"),
    ('{"type": "race_upload", "name": "/etc/passwd", "data": "AAAA", "config": {}}', ".npy"),
    ('{"type": "race_upload", "name": "x.npy", "data": "AAAA", "config": {}}', "npy"),
    ('{"type": "csv", "name": "a.csv", "data": "AAAA", "config": {"dataset": "csv"}}', "CSV"),
])
def test_malformed_messages_are_answered_with_an_error(client, message, word):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        ws.send_text(message)
        assert word in _error(ws)
        _still_works(ws)


def test_a_binary_message_is_answered_with_an_error(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        ws.send_bytes(b"\x00\x01")
        assert "binary" in _error(ws)


def test_one_pages_garbage_does_not_disturb_another(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as good, \
            client.websocket_connect("/ws", headers=ORIGIN) as bad:
        send(good, type="config", config={"speed": 50}, version=1)
        send(good, type="play")
        until(good, lambda m: m["type"] == "frame" and m["epoch"] > 0)
        bad.send_text("{garbage")
        assert "JSON" in _error(bad)
        epoch = until(good, lambda m: m["type"] == "frame")["epoch"]
        later = until(good, lambda m: m["type"] == "frame" and m["epoch"] > epoch + 50)
        assert later["running"]


def test_no_page_can_name_a_file_on_the_server(client):
    for path in ("/static/..%2Fserver.py", "/static/%2E%2E/session.py", "/static/.hidden",
                 "/static/__init__.py", "/etc/passwd"):
        assert client.get(path).status_code == 404, path
    with pytest.raises(TorchannError, match="unknown setting"):
        Config.from_dict({"csv_path": "/etc/passwd"})


def test_pages_beyond_the_cap_are_told_to_close_one(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as a, \
            client.websocket_connect("/ws", headers=ORIGIN) as b, \
            client.websocket_connect("/ws", headers=ORIGIN) as c:
        for ws in (a, b, c):
            _still_works(ws, version=5)
        with client.websocket_connect("/ws", headers=ORIGIN) as extra:
            msg = json.loads(extra.receive_text())
            assert msg["type"] == "error" and "3 playground pages are open" in msg["message"]
    with client.websocket_connect("/ws", headers=ORIGIN) as again:  # slots are given back
        _still_works(again)
