"""torchann playground: the page and its assets, the code panel, training over the socket,
the export, the race and the command."""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys

import httpx
import numpy as np
import pytest
import torch
from playground_helpers import ORIGIN, FakeChannel, send, until
from playground_helpers import wait_for as _wait
from starlette.testclient import TestClient

from torchann.classify.chapter import NeuralNet
from torchann.playground.code import Config, render_code
from torchann.playground.datasets import load_csv, make_dataset
from torchann.playground.server import create_app
from torchann.playground.session import TrainingSession

ASSETS = ("app.js", "i18n.js", "draw.js", "network.js", "race.js", "style.css")


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app({"testserver"})) as c:
        yield c


def test_page_and_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200
    for element in ('id="epoch"', 'id="test-loss"', 'id="heatmap"', 'id="code"'):
        assert element in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ASSETS:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.content, name
        # offline: nothing is fetched from another site
        assert not re.search(r"(src|href|import)[^\n]*https?://", r.text), name
    assert client.get("/static/missing.js").status_code == 404


def test_every_label_is_in_english_and_korean():
    from importlib import resources

    static = resources.files("torchann.playground").joinpath("static")
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    scripts = "".join(static.joinpath(n).read_text(encoding="utf-8") for n in ASSETS
                      if n.endswith(".js"))
    keys = set(re.findall(r'data-i18n="(\w+)"', page))
    keys |= set(re.findall(r't\((?:state\.)?lang(?:\(\))?, "(\w+)"\)', scripts))
    strings = static.joinpath("i18n.js").read_text(encoding="utf-8")
    english, korean = strings.split("\n  ko: {", 1)
    assert len(keys) > 40
    for key in sorted(keys):
        assert re.search(rf"\b{key}: ", english), f"{key} has no English text"
        match = re.search(rf'\b{key}: "([^"]*)"', korean)
        assert match, f"{key} has no Korean text"
        assert re.search("[\uac00-\ud7a3]", match.group(1)), key


def _session_loss(cfg, epochs, csv=None):
    channel = FakeChannel()
    session = TrainingSession(channel)
    if csv is not None:
        session.csv = (csv, "data.csv")
    session.setup(cfg)
    while session.epoch < epochs:
        session.train(epochs - session.epoch)
    return session.frame()["test_loss"], channel


def _code_loss(cfg, epochs, csv_name="data.csv"):
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(render_code(cfg, epochs=epochs, csv_name=csv_name), "<panel>", "exec"),
             namespace)
    return namespace["test_loss"].item(), namespace["model"]


@pytest.mark.parametrize("settings, epochs", [
    ({}, 300),  # the chapter: NeuralNet(2, 5), SGD 0.03, full batch, XOR blobs
    ({"dataset": "spiral", "n": 120, "layers": [6, 4], "act": "tanh", "opt": "adam",
      "lr": 0.01, "batch": 16, "reg": "l2", "rate": 0.001,
      "features": ["x1", "x2", "x1sq", "sinx2"]}, 40),
    ({"dataset": "circle", "layers": [], "opt": "lbfgs", "lr": 0.1, "reg": "l1",
      "features": ["x1sq", "x2sq"], "seed": 3}, 10),
    ({"dataset": "gauss", "layers": [3], "act": "sigmoid", "noise": 0.5, "ratio": 0.5}, 50),
])
def test_the_code_panel_trains_to_the_servers_loss(settings, epochs):
    cfg = Config.from_dict(settings)
    served, channel = _session_loss(cfg, epochs)
    shown, model = _code_loss(cfg, epochs)
    assert not channel.errors
    assert "class NeuralNet(nn.Module)" in channel.messages[0]["code"]
    assert "nn.BCELoss()" in channel.messages[0]["code"]
    assert shown == pytest.approx(served, rel=1e-4, abs=1e-6)
    if cfg.chapter_shape:
        assert type(model).__name__ == "NeuralNet"
        assert set(model.state_dict()) == set(NeuralNet(2, 5).state_dict())


def test_the_code_panel_trains_to_the_servers_loss_on_a_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)) * [10, 0.1] + [100, 5]
    label = np.where(x[:, 0] > 100, "yes", "no")
    text = "a,b,label\n" + "".join(f"{p},{q},{r}\n" for (p, q), r in zip(x, label))
    path = tmp_path / "mine.csv"
    path.write_text(text)
    cfg = Config.from_dict({"dataset": "csv", "layers": [4], "act": "tanh"})
    served, _ = _session_loss(cfg, 30, csv=text.encode())
    shown, _ = _code_loss(cfg, 30, csv_name=str(path))
    assert shown == pytest.approx(served, rel=1e-4)
    x_train, y_train, x_test, _ = load_csv(text.encode())
    assert len(x_train) == 48 and len(x_test) == 12
    assert x_train.min() >= -2 and x_train.max() <= 2 and set(y_train) == {0.0, 1.0}


def test_the_default_data_is_the_chapters():
    from torchann.classify.chapter import chapter_data

    for ours, chapters in zip(make_dataset(), chapter_data(seed=0, n_train=80, n_test=20,
                                                           cluster_std=0.3)):
        np.testing.assert_array_equal(ours, chapters)
    for name in ("circle", "gauss", "spiral"):
        x_train, y_train, x_test, y_test = make_dataset(name, n=200)
        assert x_train.shape == (160, 2) and x_test.shape == (40, 2)
        assert np.abs(x_train).max() <= 2.5 and set(np.unique(y_train)) == {0.0, 1.0}


def test_a_slow_page_gets_the_latest_frame_not_a_backlog():
    import asyncio

    from torchann.playground.session import Channel

    async def scenario():
        channel = Channel(asyncio.get_running_loop())
        for epoch in range(5):  # the page has not read anything yet
            channel.put_frame("frame", json.dumps({"epoch": epoch}))
        channel.put_message({"type": "setup"})
        return await channel.take(), channel.dropped

    sent, dropped = asyncio.run(scenario())
    assert [json.loads(t) for t in sent] == [{"type": "setup"}, {"epoch": 4}]
    assert dropped == 4


def test_a_paused_session_waits_instead_of_polling():
    import time

    from torchann.playground.session import Channel

    class Loop:  # what Channel needs of an event loop, called from the worker thread
        def call_soon_threadsafe(self, fn, *args):
            pass

    session = TrainingSession(Channel(Loop())).start()
    try:
        session.send("config", Config(), 1)
        session.send("step")
        for _ in range(200):
            if session.model is not None and session.epoch == 1:
                break
            time.sleep(0.05)
        assert session.epoch == 1 and not session.running
        time.sleep(0.2)  # let it settle into its wait
        before = session.wakeups
        time.sleep(0.5)
        assert session.wakeups == before  # blocked on its Event: no loop turned meanwhile
        session.send("pause")
        time.sleep(0.2)
        assert session.wakeups > before  # a command wakes it
    finally:
        session.close()
        session.thread.join(10)
    assert not session.thread.is_alive()


def _frames_until(ws, epoch):
    return until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= epoch)


def test_training_over_the_socket_lowers_the_loss_and_changes_the_heatmap(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="config", config={"speed": 100}, version=1)
        setup = until(ws, lambda m: m["type"] == "setup")
        assert len(setup["train"]) == 80 and len(setup["test"]) == 20
        first = until(ws, lambda m: m["type"] == "frame")
        assert first["epoch"] == 0 and len(base64.b64decode(first["heat"])) == 64 * 64
        assert len(first["neurons"]) == 5 and np.shape(first["weights"][0]) == (5, 2)
        send(ws, type="play")
        later = _frames_until(ws, 400)
        assert later["test_loss"] < first["test_loss"] - 0.05
        assert base64.b64decode(later["heat"]) != base64.b64decode(first["heat"])
        send(ws, type="pause")
        paused = until(ws, lambda m: m["type"] == "frame" and not m["running"])
        send(ws, type="step")
        stepped = until(ws, lambda m: m["type"] == "frame" and m["epoch"] > paused["epoch"])
        assert stepped["epoch"] == paused["epoch"] + 1
        # a settings change shows its new code and starts over from epoch 0
        send(ws, type="config", config={"layers": [5, 3], "act": "tanh"}, version=2)
        setup = until(ws, lambda m: m["type"] == "setup")
        assert "self.linear_3 = nn.Linear(3, 1)" in setup["code"]
        frame = until(ws, lambda m: m["type"] == "frame" and m["version"] == 2)
        assert frame["epoch"] == 0 and len(frame["neurons"]) == 8


def _export(ws):
    send(ws, type="export")
    msg = until(ws, lambda m: m["type"] == "export")
    return base64.b64decode(msg["pt"]), json.loads(msg["json"])


def test_export_is_the_chapters_state_dict(client, tmp_path):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="config", config={"speed": 100}, version=1)
        send(ws, type="play")
        frame = _frames_until(ws, 300)
        send(ws, type="pause")
        pt, info = _export(ws)
    state = torch.load(io.BytesIO(pt), weights_only=True)
    model = NeuralNet(2, 5)
    model.load_state_dict(state)
    assert info["format"] == "torchann-classifier" and info["hidden_size"] == 5
    assert info["epoch"] >= frame["epoch"]
    # the pair is what 'torchann predict' reads
    from torchann.classify.files import load_model

    (tmp_path / "model.pt").write_bytes(pt)
    (tmp_path / "model.json").write_text(json.dumps(info))
    loaded = load_model(tmp_path / "model.pt")
    with torch.no_grad():
        p = loaded.model(torch.tensor([[1.0, 1.0], [-1.0, 1.0]])).squeeze(1)
    assert p[0] < 0.5 < p[1]  # the chapter's labels: (1, 1) is 0, (-1, 1) is 1


def test_export_of_a_deeper_network_is_the_librarys_model_pair(client, tmp_path):
    from torchann.classify.files import load_model

    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="config", config={"layers": [4, 3], "act": "tanh",
                                        "features": ["x1", "x2", "x1x2"]}, version=1)
        until(ws, lambda m: m["type"] == "frame")
        pt, info = _export(ws)
    state = torch.load(io.BytesIO(pt), weights_only=True)
    assert sorted(state) == ["hidden.0.linear.bias", "hidden.0.linear.weight",
                             "hidden.1.linear.bias", "hidden.1.linear.weight",
                             "output.bias", "output.weight"]
    assert info["format"] == "torchann-playground" and "class NeuralNet" in info["code"]
    assert info["architecture"]["hidden"] == [4, 3] == info["hidden_sizes"]
    (tmp_path / "model.pt").write_bytes(pt)
    (tmp_path / "model.json").write_text(json.dumps(info))
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.n_features == 3 and loaded.model.activation_name == "tanh"


@pytest.mark.parametrize("settings", [{"layers": [5]}, {"layers": [4, 3], "act": "tanh"}])
def test_a_csv_model_exported_from_the_page_predicts_as_the_page(tmp_path, settings):
    from torchann.classify.files import load_model
    from torchann.cli import main
    from torchann.playground.datasets import read_points

    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 2)) * [10, 0.1] + [100, 5]
    label = np.where((x[:, 0] > 100) == (x[:, 1] > 5), "yes", "no")
    text = "a,b,label\n" + "".join(f"{p},{q},{r}\n" for (p, q), r in zip(x, label))
    session = TrainingSession(FakeChannel())
    session.csv = (text.encode(), "mine.csv")
    session.setup(Config.from_dict({"dataset": "csv", "lr": 0.3, **settings}))
    session.train(200)
    pt, info = _export_of(session)
    assert info["features"] == ["a", "b"] and info["label"] == "label"
    assert info["label_map"] == {"no": 0, "yes": 1}
    (tmp_path / "model.pt").write_bytes(pt)
    (tmp_path / "model.json").write_text(json.dumps(info))
    raw, _, _, _ = read_points(text.encode())
    lo, hi = raw.min(0), raw.max(0)
    scaled = torch.tensor((raw - lo) / (hi - lo) * 4.0 - 2.0, dtype=torch.float32)
    with torch.no_grad():
        page = session.model(scaled).squeeze(1).numpy()
    assert 0.02 < page.mean() < 0.98  # not a constant guess
    loaded = load_model(tmp_path / "model.pt")
    np.testing.assert_allclose(loaded.predict(raw), page, atol=1e-5)
    (tmp_path / "mine.csv").write_text(text)
    assert main(["predict", "--model", str(tmp_path / "model.pt"), "--csv",
                 str(tmp_path / "mine.csv"), "--output", str(tmp_path / "out.csv")]) == 0
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    np.testing.assert_allclose([float(r["probability"]) for r in rows], page, atol=1e-5)
    assert [r["predicted_label"] for r in rows] == ["yes" if p >= 0.5 else "no" for p in page]


def _export_of(session):
    """What the page downloads when export is pressed in ``session``."""
    from torchann.playground.export import export_model

    return export_model(session.cfg, session.model, session.epoch, session.code,
                        session.csv[0])


def test_race_takes_the_chapters_pickle_format(client):
    import pickle

    from torchann.restore import demo_image, weird_function

    broken = weird_function(torch.tensor(demo_image(40), dtype=torch.float32).reshape(-1))
    data = pickle.dumps(broken.numpy())
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="race_upload", name="broken_image_t.p",
             data=base64.b64encode(data).decode(), config={"speed": 500, "steps": 500})
        setup = until(ws, lambda m: m["type"] == "race_setup")
        assert setup["reference_kind"] == "exact" and setup["width"] == 40
        send(ws, type="race_play")
        done = until(ws, lambda m: m["type"] == "race_frame" and m["lanes"][1]["done"])
    gd, cg = done["lanes"]
    assert cg["method"] == "cg" and cg["note"] == "tol" and cg["psnr"] >= 80
    assert gd["method"] == "gd" and gd["psnr"] < 45


def _start(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "torchann", "playground", "--no-browser",
                             "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    match = re.search(r"http://\S+", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(0)


@pytest.mark.slow
def test_command_prints_its_address_serves_and_stops_on_ctrl_c():
    proc, url = _start("--lang", "ko")
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("?lang=ko")
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and 'data-default-lang="ko"' in page.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert proc.stderr.read().strip().startswith("torchann:")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_command_warns_when_it_listens_beyond_this_machine(monkeypatch, capsys):
    import uvicorn

    from torchann.cli import main

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    assert main(["playground", "--no-browser", "--port", "0", "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0" in err
    assert main(["playground", "--no-browser", "--port", "0"]) == 0
    assert "warning" not in capsys.readouterr().err


@contextlib.contextmanager
def _running_session():
    """A training session on a fake channel, its thread closed and joined afterwards."""
    channel = FakeChannel()
    session = TrainingSession(channel).start()
    try:
        yield session, channel
    finally:
        session.close()
        session.thread.join(10)


def test_a_bug_in_training_is_reported_and_the_session_lives_on():
    with _running_session() as (session, channel):
        real_train = session.train
        session.send("config", Config(), 1)
        assert _wait(lambda: session.model is not None)

        def broken(epochs):
            raise RuntimeError("a bug")

        session.train = broken
        session.send("play")
        assert _wait(lambda: channel.errors), "no message reached the page"
        assert "RuntimeError: a bug" in channel.errors[0] and "reset" in channel.errors[0]
        assert not session.running and session.thread.is_alive()
        session.train = real_train  # the page's next commands still work
        session.send("reset")
        session.send("step")
        assert _wait(lambda: session.epoch == 1)


def test_a_diverging_run_says_so_and_reset_trains_again():
    with _running_session() as (session, channel):
        wild = Config(dataset="circle", lr=10.0, reg="l2", rate=1.0, speed=50)
        session.send("config", wild, 1)
        session.send("play")
        assert _wait(lambda: channel.errors or session.epoch >= 200, limit=30)
        session.send("pause")
        session.send("config", Config(), 2)
        session.send("step")
        assert _wait(lambda: session.version == 2 and session.epoch == 1)
        assert session.thread.is_alive()
        assert np.isfinite(session.frame()["train_loss"])


def test_play_before_any_settings_is_ignored():
    with _running_session() as (session, channel):
        session.send("play")
        session.send("config", Config(), 1)
        assert _wait(lambda: session.model is not None)
        assert channel.errors == [] and session.thread.is_alive() and not session.running
