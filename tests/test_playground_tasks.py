"""torchann playground: messages as codes, divergence and saturation explained, refusals that
name their settings, and the regression and multi-class datasets."""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import shutil
import string
import subprocess
from importlib import resources

import numpy as np
import pytest
import torch
from playground_helpers import ORIGIN, FakeChannel, send, until
from starlette.testclient import TestClient

from torchann import i18n
from torchann.errors import TorchannError
from torchann.playground.code import Config, render_code
from torchann.playground.datasets import make_dataset, read_points
from torchann.playground.messages import PageError
from torchann.playground.server import create_app
from torchann.playground.session import TrainingSession


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app({"testserver"})) as c:
        yield c


def _error(ws):
    return until(ws, lambda m: m["type"] == "error")


def _run_until_error(cfg, epochs=3000):
    session = TrainingSession(FakeChannel())
    session.setup(cfg)
    with pytest.raises(PageError) as caught:
        while session.epoch < epochs:
            session.train(100)
    return session, caught.value


# --------------------------------------------------------------------------- messages


STATIC = resources.files("torchann.playground").joinpath("static")
NODE = shutil.which("node")


def test_the_page_keeps_no_sentences_of_the_servers_codes():
    """The server's messages are worded from the catalogue only: no sentence of a
    playground.<code> entry, in either language, is written in the page's scripts."""
    scripts = "".join(STATIC.joinpath(name).read_text(encoding="utf-8")
                      for name in ("app.js", "i18n.js", "race.js", "network.js", "draw.js"))
    for lang in i18n.LANGUAGES:
        texts = i18n.entries("playground.", lang)
        assert len(texts) > 40
        for key, text in texts.items():
            words = re.sub(r"\{\w+\}", "", text).strip(" :.")
            if len(words) > 12:
                assert words not in scripts, f"{key} ({lang}) is written in the page too"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_page_fills_templates_as_python_does(tmp_path):
    """The page's fill() writes every placeholder form the catalogue uses ({name},
    {name:.3g}, {name:,}, {name:5.2f}, ...) as str.format does, rounding included."""
    specs = {spec for key in i18n.keys() for _, name, spec, _ in
             string.Formatter().parse(i18n.template(key, "en")) if name and spec}
    assert {"g", ".3g", ".4f", ".1%", ","} <= specs
    rng = random.Random(0)
    numbers = [0, 0.0, -0.0, 7, -3, 1234567, 0.5, 2.5, 0.125, 0.005, 1e-05, -2.5e-07, 3e21,
               1e-120, 999999.5, 0.99995, float("inf")]
    numbers += [rng.uniform(-1e4, 1e4) for _ in range(50)]
    numbers += [10 ** rng.uniform(-8, 8) for _ in range(50)]
    numbers += [round(rng.uniform(0, 100) * 8) / 8 for _ in range(20)]  # exact halves
    cases, expected = [["{{a}} {b} {c}", {"b": "lr", "c": 3}]], ["{a} lr 3"]
    for spec in sorted(specs):
        for value in numbers:
            if spec == ">5" or (spec == "," and isinstance(value, float)):
                value = str(value) if spec == ">5" else int(value) if abs(value) < 1e20 else 7
            cases.append([f"{{x:{spec}}}", {"x": value}])
            expected.append(f"{{x:{spec}}}".format(x=value))
    shutil.copy(STATIC.joinpath("i18n.js"), tmp_path / "i18n.mjs")
    script = tmp_path / "fill.mjs"
    script.write_text('import { fill } from "./i18n.mjs";\n'
                      'import { readFileSync } from "node:fs";\n'
                      "const cases = JSON.parse(readFileSync(0, 'utf-8'));\n"
                      "console.log(JSON.stringify(cases.map(([t, v]) => fill(t, v))));\n")
    done = subprocess.run([NODE, str(script)], input=json.dumps(cases).replace("Infinity", "1e999"),
                          capture_output=True, text=True, check=True, timeout=60)
    filled = json.loads(done.stdout)
    wrong = [(c[0], c[1], e, f) for c, e, f in zip(cases, expected, filled) if e != f]
    assert not wrong, wrong[:10]


def test_a_page_error_carries_its_code_and_values():
    err = PageError("setting_range", name="lr", value="99", lo="1e-05", hi="10")
    assert isinstance(err, TorchannError)
    assert str(err) == "lr 99 is out of range; use 1e-05 to 10"
    assert (err.code, err.values["name"]) == ("setting_range", "lr")
    assert err.localized("ko") == "lr 99은(는) 범위를 벗어났습니다. 1e-05에서 10 사이로 고르세요."
    # a float is sent as its :g text, which the page prints as Python does
    assert PageError("race_lr", value=1e-05).values == {"value": "1e-05"}
    with pytest.raises(KeyError):
        PageError("no_such_code")


# ------------------------------------------------------------------ a session that explains


def test_a_saturated_run_says_why_and_suggests_a_rate():
    session, err = _run_until_error(Config(opt="adam", lr=10.0))
    assert err.code == "saturated"
    assert err.values["suggest"] == "0.01" and err.values["opt"] == "Adam"
    assert float(err.values["loss"]) > 4 * np.log(2)
    json.dumps(session.frame(), allow_nan=False)  # the page can still read the frame


def test_a_diverging_run_with_a_strong_penalty_names_the_penalty():
    session, err = _run_until_error(Config(dataset="circle", lr=10.0, reg="l2", rate=1.0))
    assert err.code == "diverged_reg" and err.values["suggest"] == "0.03"
    frame = session.frame()
    json.dumps(frame, allow_nan=False)
    session.setup(Config(dataset="circle"))  # reset with settings that work
    session.train(5)
    assert np.isfinite(session.frame()["train_loss"])


def test_a_loss_that_stops_being_a_number_is_divergence():
    session, err = _run_until_error(Config(dataset="plane", lr=10.0, layers=[8, 8]))
    assert err.code == "diverged"
    assert "too high for SGD here; try 0.03" in str(err)
    assert session.frame()["train_loss"] is None


def test_a_refused_setting_names_its_version_and_the_session_goes_on(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        send(ws, type="config", config={}, version=1)
        until(ws, lambda m: m["type"] == "setup" and m["version"] == 1)
        send(ws, type="config", config={"lr": 99}, version=2)
        err = _error(ws)
        assert err["code"] == "setting_range" and err["version"] == 2
        assert err["values"]["name"] == "lr"
        send(ws, type="config", config={"dataset": "csv"}, version=3)  # a reload without upload
        err = _error(ws)
        assert err["code"] == "csv_first" and err["version"] == 3
        send(ws, type="step")
        frame = until(ws, lambda m: m["type"] == "frame" and m["epoch"] == 1)
        assert frame["version"] == 1  # the settings in force are still the first


@pytest.mark.parametrize("text, code", [
    ('{"type": "config", "config": {"n": 1' + "0" * 5000 + "}, \"version\": 1}",
     "message_integer"),
    ('{"type": "config", "config": {"lr": 1' + "0" * 400 + "}, \"version\": 1}",
     "setting_range"),
    ('{"type": "config", "config": {"seed": 1' + "0" * 400 + "}, \"version\": 1}",
     "setting_integer"),
])
def test_out_of_range_integers_are_refused_with_a_message(client, text, code):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        ws.send_text(text)
        err = _error(ws)
        assert err["code"] == code and len(err["message"]) < 200
        send(ws, type="config", config={}, version=2)
        until(ws, lambda m: m["type"] == "setup")


def test_a_csv_with_a_stray_quote_is_explained():
    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(20000))
    data = ('x1,"x2,label\n' + rows).encode()
    with pytest.raises(PageError) as caught:
        read_points(data)
    assert caught.value.code == "csv_syntax"
    small = b'x1,"x2,label\n1,2,0\n3,4,1\n'
    with pytest.raises(PageError):
        read_points(small)


# --------------------------------------------------------------------------- the new datasets


def _panel_loss(cfg, epochs):
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(render_code(cfg, epochs=epochs, n_classes=3 if cfg.dataset == "three"
                                 else 2), "<panel>", "exec"), namespace)
    return namespace["test_loss"].item(), namespace["model"]


@pytest.mark.parametrize("settings, loss, output", [
    ({"dataset": "three", "layers": [6]}, "CrossEntropyLoss", 3),
    ({"dataset": "three", "layers": [5], "opt": "adam", "lr": 0.01, "batch": 16},
     "CrossEntropyLoss", 3),
    ({"dataset": "plane", "layers": [3], "act": "tanh"}, "MSELoss", 1),
    ({"dataset": "mgauss", "layers": [8, 8], "act": "tanh", "opt": "adam", "lr": 0.01},
     "MSELoss", 1),
])
def test_the_code_panel_of_a_new_task_trains_to_the_servers_loss(settings, loss, output):
    cfg = Config.from_dict(settings)
    channel = FakeChannel()
    session = TrainingSession(channel)
    session.setup(cfg)
    session.train(60)
    while session.epoch < 60:
        session.train(60 - session.epoch)
    served = session.frame()["test_loss"]
    shown, model = _panel_loss(cfg, 60)
    code = channel.messages[0]["code"]
    assert f"nn.{loss}()" in code and "self.sigmoid" not in code
    assert channel.messages[0]["task"] == ("regression" if loss == "MSELoss" else "multiclass")
    assert model(torch.zeros(1, 2)).shape == (1, output)
    assert shown == pytest.approx(served, rel=1e-4, abs=1e-6)


def test_three_classes_and_the_regression_sets_are_learned():
    results = {}
    for name, settings in (("three", {}),
                           ("plane", {"layers": [3], "act": "tanh"}),
                           ("mgauss", {"layers": [8, 8], "act": "tanh", "opt": "adam",
                                       "lr": 0.01, "noise": 0.0})):
        session = TrainingSession(FakeChannel())
        session.setup(Config(dataset=name, **settings))
        while session.epoch < 800:
            session.train(200)
        results[name] = {**session.frame(), "noise": session.cfg.noise}
    assert results["three"]["test_acc"] > 0.9 and results["three"]["heat_class"]
    for name in ("plane", "mgauss"):
        y = make_dataset(name, noise=results[name]["noise"])[3]
        assert results[name]["test_acc"] is None
        assert results[name]["test_loss"] < 0.3 * float(np.var(y)), name


def test_a_csv_keeps_its_class_names_and_may_hold_three_classes(tmp_path):
    from torchann.classify.files import load_model
    from torchann.playground.export import export_model

    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 2))
    names = np.array(["setosa", "versicolor", "virginica"])[np.arange(90) % 3]
    x += np.stack([np.arange(90) % 3, np.zeros(90)], 1) * 3
    text = "a,b,species\n" + "".join(f"{p},{q},{r}\n" for (p, q), r in zip(x, names))
    channel = FakeChannel()
    session = TrainingSession(channel)
    session.csv = (text.encode(), "iris.csv")
    session.setup(Config(dataset="csv", layers=[4], lr=0.3))
    assert channel.messages[0]["classes"] == ["setosa", "versicolor", "virginica"]
    assert channel.messages[0]["task"] == "multiclass"
    session.train(200)
    pt, info = export_model(session.cfg, session.model, session.epoch, session.code,
                            session.csv[0], session.task)
    assert info["task"] == "multiclass" and info["label_map"]["virginica"] == 2
    (tmp_path / "model.pt").write_bytes(pt)
    (tmp_path / "model.json").write_text(json.dumps(info))
    raw = read_points(text.encode())[0]
    lo, hi = raw.min(0), raw.max(0)
    scaled = torch.tensor((raw - lo) / (hi - lo) * 4.0 - 2.0, dtype=torch.float32)
    with torch.no_grad():
        page = torch.softmax(session.model(scaled), 1).numpy()
    loaded = load_model(tmp_path / "model.pt")
    np.testing.assert_allclose(loaded.predict(raw), page, atol=1e-5)


# --------------------------------------------------------------------------- uploads

_PEAK = """
import resource, sys
import numpy as np, skimage.transform, skimage.color, skimage.util  # imported before measuring
from torchann.playground.race import small_picture
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
picture = small_picture(data, "big")
print(picture.shape[0] * picture.shape[1],
      (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


@pytest.mark.parametrize("suffix, most_mb", [(".png", 400), (".jpg", 100)])
def test_a_huge_picture_is_decoded_at_a_reduced_size(tmp_path, suffix, most_mb):
    import os
    import subprocess
    import sys

    from PIL import Image

    from torchann.playground.race import MAX_PIXELS

    path = tmp_path / ("big" + suffix)
    Image.new("RGB", (7000, 7000), (120, 80, 200)).save(path)  # 7000x7000, a small file
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True,
                         text=True, env=env, check=True).stdout.split()
    pixels, peak_mb = int(out[0]), float(out[1])
    assert pixels <= MAX_PIXELS
    assert peak_mb < most_mb  # a full decode to floats peaked at about 1,840 MB


def test_a_picture_declaring_too_many_pixels_is_refused_before_decoding(tmp_path):
    from PIL import Image

    from torchann.playground.race import small_picture

    buf = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buf, format="PNG")
    with pytest.raises(PageError) as caught:
        small_picture(buf.getvalue(), "huge.png")
    assert caught.value.code == "race_pixels" and caught.value.values["name"] == "huge.png"


@pytest.mark.parametrize("message, code", [
    ({"type": "race_config", "config": {"a_lr": 10 ** 400}}, "race_lr"),
    ({"type": "race_upload", "name": "x.png", "data": "AAAA", "config": {}}, "race_unreadable"),
])
def test_race_refusals_are_codes_and_the_page_goes_on(client, message, code):
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        ws.send_text(json.dumps(message))
        assert _error(ws)["code"] == code
        send(ws, type="config", config={}, version=1)
        until(ws, lambda m: m["type"] == "setup")
