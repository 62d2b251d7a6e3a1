"""torchann playground in a headless browser: recovery from divergence and bad files, the
regression and multi-class sets, the Korean page, export then predict, and a click storm."""

from __future__ import annotations

import csv
import random
import re
import threading
import time

import numpy as np
import pytest
from playground_helpers import export_files
from test_playground_browser import CHROMIUM, browser, page, server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")]

#: Words allowed untranslated on the Korean page: names of code, optimizers and units.
TECHNICAL = {"x", "sin", "relu", "tanh", "sigmoid", "linear", "SGD", "Adam", "LBFGS", "L1",
             "L2", "gd", "adam", "cg", "PSNR", "dB", "CSV", "csv", "model", "pt", "json",
             "ReLU", "BCELoss", "NeuralNet", "weird_function", "f", "y", "ko", "en",
             "English", "torchann", "playground", "UTF", "x1", "x2", "e", "L", "XOR"}


def _epoch(tab):
    return int(tab.text_content("#epoch"))


def _ready(tab):
    """Wait until the tab shows a frame of the latest settings it sent."""
    tab.wait_for_function("window.playground.state.frame && "
                           "window.playground.state.frame.version === "
                           "window.playground.state.sent")


def _trains(tab, epochs=30, timeout=60_000):
    """Press play (if paused) and wait for ``epochs`` more epochs with a finite loss."""
    start = _epoch(tab)
    if not tab.evaluate("window.playground.state.running"):
        tab.click("#play")
    tab.wait_for_function(f"Number(document.getElementById('epoch').textContent) > "
                           f"{start + epochs}", timeout=timeout)
    return float(tab.text_content("#test-loss"))


def test_a_diverging_run_is_explained_and_a_lower_rate_trains_again(page, server):  # noqa: F811
    page.goto(server + "?speed=50")
    _ready(page)
    page.select_option("#preset", "high_lr")
    assert "Adam" in page.text_content("#preset-note")
    _ready(page)
    page.click("#play")
    page.wait_for_selector("#error", state="visible", timeout=60_000)
    assert "try 0.01" in page.text_content("#error")
    assert page.evaluate("window.playground.state.errors").count("saturated") == 1
    page.select_option("#lr", "0.01")
    _ready(page)
    assert page.is_hidden("#error") and _epoch(page) == 0
    assert np.isfinite(_trains(page, 100))


def test_a_malformed_csv_is_refused_and_the_controls_come_back(page, server):  # noqa: F811
    page.goto(server + "?lang=ko&dataset=circle")
    _ready(page)
    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(20_000))
    page.set_input_files("#csv-file", files=[{"name": "bad.csv", "mimeType": "text/csv",
                                              "buffer": ('x1,"x2,label\n' + rows).encode()}])
    page.wait_for_selector("#error", state="visible")
    message = page.text_content("#error")
    assert "따옴표" in message and not re.search(r"[A-Za-z]{4,}", message), message
    page.wait_for_function("document.getElementById('dataset').value === 'circle'")
    assert "dataset=circle" in page.url
    assert np.isfinite(_trains(page))  # the display was not frozen by the refusal
    page.goto(server + "?lang=ko&dataset=csv")  # a reload after an upload: the file is gone
    _ready(page)
    assert page.input_value("#dataset") == "xor" and page.is_hidden("#error")
    assert np.isfinite(_trains(page))


def test_the_korean_page_speaks_korean_server_messages_included(page, server):  # noqa: F811
    page.goto(server + "?lang=ko")
    _ready(page)
    page.evaluate("window.playground.send({type: 'config', config: {lr: 99}, version: "
                  "window.playground.state.sent + 1})")
    page.wait_for_selector("#error", state="visible")
    assert "범위" in page.text_content("#error")
    texts = page.evaluate("""() => {
        const out = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const node = walk.currentNode, el = node.parentElement;
            if (!el.closest('#code, script, style, [hidden], option') && node.textContent.trim())
                out.push(node.textContent.trim());
        }
        for (const o of document.querySelectorAll('select:not(#lr):not(#rate) option'))
            out.push(o.textContent);
        return out;
    }""")
    page.click("#tab-btn-race")
    page.wait_for_function("document.getElementById('race-a-psnr').textContent !== '-'")
    texts += page.evaluate("""() => [...document.querySelectorAll('#tab-race *')]
        .filter((e) => e.children.length === 0 && e.textContent.trim())
        .map((e) => e.textContent.trim())""")
    foreign = [t for t in texts for w in re.findall(r"[A-Za-z_]+", t) if w not in TECHNICAL]
    assert not foreign, foreign


def test_a_server_message_is_worded_again_when_the_language_toggles(page, server):  # noqa: F811
    """The page reads the catalogue's messages of the new language and words the shown error
    from its code and values again, as Python words it."""
    from torchann.i18n import tr

    page.goto(server + "?lang=en")
    _ready(page)
    page.evaluate("window.playground.send({type: 'config', config: {lr: 99}, version: "
                  "window.playground.state.sent + 1})")
    page.wait_for_selector("#error", state="visible")
    values = {"name": "lr", "value": "99", "lo": "1e-05", "hi": "10"}
    assert page.text_content("#error") == tr("playground.setting_range", "en", **values)
    page.click("#lang")
    page.wait_for_function("document.getElementById('error').textContent.includes('범위')")
    assert page.text_content("#error") == tr("playground.setting_range", "ko",
                                             **{**values, "name": "학습률"})
    page.click("#lang")
    page.wait_for_function("document.getElementById('error').textContent.includes('range')")


def test_the_race_restarts_its_charts_on_reset(page, server):  # noqa: F811
    page.goto(server + "?tab=race&rspeed=100")
    page.wait_for_function("document.getElementById('race-a-psnr').textContent !== '-'")
    page.click("#race-play")
    page.wait_for_function("Number(document.getElementById('race-a-step').textContent) > 300",
                           timeout=60_000)
    page.click("#race-play")
    page.click("#race-reset")
    page.wait_for_function("document.getElementById('race-a-step').textContent === '0'")
    page.wait_for_timeout(300)
    steps = page.evaluate("window.playground.race.history.map((h) => h.map((r) => r[0]))")
    assert all(max(h) == 0 for h in steps), steps  # the last run's final point is not re-plotted
    assert page.text_content(".race-legend").split() == ["gd", "cg"]


def test_the_pictures_toggles_change_the_heatmap(page, server):  # noqa: F811
    page.goto(server + "?autoplay=1&speed=20")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 200",
                           timeout=60_000)
    page.click("#play")
    page.wait_for_function("!window.playground.state.running")
    picture = page.eval_on_selector("#heatmap", "c => c.toDataURL()")
    page.check("#discretize")
    discrete = page.eval_on_selector("#heatmap", "c => c.toDataURL()")
    page.uncheck("#show-test")
    assert len({picture, discrete, page.eval_on_selector("#heatmap", "c => c.toDataURL()")}) == 3
    assert page.text_content("#cb-lo") == "0" and page.text_content("#cb-hi") == "1"
    assert page.eval_on_selector_all("#heat-xticks span", "e => e.map((x) => x.textContent)") \
        == ["-2", "-1", "0", "1", "2"]


def test_the_regression_and_multiclass_sets_train_in_the_page(page, server):  # noqa: F811
    page.goto(server + "?speed=50")
    _ready(page)
    page.select_option("#dataset", "three")
    _ready(page)
    assert "nn.CrossEntropyLoss()" in page.text_content("#code")
    assert page.eval_on_selector_all("#class-legend .class-name", "e => e.length") == 3
    page.click("#play")
    page.wait_for_function("parseFloat(document.getElementById('test-acc').textContent) > 90",
                           timeout=60_000)
    page.select_option("#dataset", "plane")
    _ready(page)
    assert "nn.MSELoss()" in page.text_content("#code")
    assert page.text_content("#cb-lo") == "-1" and page.text_content("#test-acc") == "-"
    start = float(page.text_content("#test-loss"))
    assert _trains(page, 200) < start


def test_a_csv_model_exported_from_the_page_predicts_as_it(page, server, tmp_path):  # noqa: F811
    from torchann.cli import main

    rng = np.random.default_rng(4)
    x = rng.normal(size=(150, 2)) * [10, 0.1] + [100, 5]
    label = np.where((x[:, 0] > 100) == (x[:, 1] > 5), "yes", "no")
    text = "a,b,label\n" + "".join(f"{p},{q},{r}\n" for (p, q), r in zip(x, label))
    page.goto(server + "?speed=50&layers=6&act=tanh&opt=adam&lr=0.03")
    _ready(page)
    page.set_input_files("#csv-file", files=[{"name": "mine.csv", "mimeType": "text/csv",
                                              "buffer": text.encode()}])
    page.wait_for_function("document.getElementById('code').textContent.includes('mine.csv')")
    _ready(page)
    legend = page.eval_on_selector_all("#class-legend .class-name",
                                       "e => e.map(x => x.textContent)")
    assert legend == ["no", "yes"]
    _trains(page, 300)
    page.click("#play")  # pause, then read what the page shows
    page.wait_for_function("!window.playground.state.running")
    page.wait_for_timeout(300)
    shown = page.evaluate("window.playground.state.frame")
    setup = page.evaluate("window.playground.state.setup")
    export_files(page, tmp_path)
    (tmp_path / "mine.csv").write_text(text)
    assert main(["predict", "--model", str(tmp_path / "model.pt"), "--csv",
                 str(tmp_path / "mine.csv"), "--output", str(tmp_path / "out.csv")]) == 0
    with open(tmp_path / "out.csv", newline="") as f:
        predicted = [r["predicted_label"] for r in csv.DictReader(f)]
    accuracy = np.mean(np.asarray(predicted) == label)
    n_train, n_test = len(setup["train"]), len(setup["test"])
    page_accuracy = (shown["train_acc"] * n_train + shown["test_acc"] * n_test) / len(x)
    assert accuracy == pytest.approx(page_accuracy, abs=1e-6)
    assert accuracy > 0.8


def _controls(tab):
    """Every control of both tabs, as (kind, selector)."""
    selects = ["#dataset", "#act", "#opt", "#lr", "#reg", "#rate", "#speed", "#preset",
               "#race-a-method", "#race-b-method", "#race-speed"]
    clicks = ["#play", "#step", "#reset", "#add-layer", "#remove-layer", "#export", "#lang",
              "#show-test", "#discretize", "#tab-btn-classify", "#tab-btn-race", "#race-play",
              "#race-reset", ".neuron-add", ".neuron-remove", "#features input"]
    numbers = {"#n": (5, 1200), "#batch": (-1, 1100), "#seed": (0, 99),
               "#race-steps": (0, 60_000), "#race-a-lr": (-1, 200), "#noise": (0, 1),
               "#ratio": (0.1, 0.9)}
    return selects, clicks, numbers


@pytest.mark.slow
def test_a_minute_of_random_clicks_leaves_a_page_that_trains(page, server):  # noqa: F811
    rng = random.Random(23)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("download", lambda d: None)
    page.goto(server + "?speed=20")
    _ready(page)
    selects, clicks, numbers = _controls(page)
    end, actions = time.monotonic() + 60, 0
    while time.monotonic() < end:
        kind = rng.random()
        try:
            if kind < 0.35:
                sel = rng.choice(selects)
                values = page.eval_on_selector_all(f"{sel} option", "o => o.map(x => x.value)")
                if page.is_visible(sel) and values:
                    page.select_option(sel, rng.choice(values), timeout=1000)
            elif kind < 0.8:
                targets = page.query_selector_all(rng.choice(clicks))
                visible = [t for t in targets if t.is_visible()]
                if visible:
                    rng.choice(visible).click(timeout=1000)
            else:
                sel, (lo, hi) = rng.choice(sorted(numbers.items()))
                if page.is_visible(sel):
                    value = lo + (hi - lo) * rng.random()
                    page.eval_on_selector(sel, "(e, v) => { e.value = v; e.dispatchEvent("
                                          "new Event('change')); }",
                                          str(round(value, 2) if hi <= 1 else int(value)))
        except Exception as err:  # noqa: BLE001 - a control that moved away while clicked
            gone = ("Timeout", "not attached", "not visible", "not enabled")
            if not any(word in f"{type(err).__name__} {err}" for word in gone):
                raise
        actions += 1
    assert actions > 100 and not errors, errors
    shown = page.evaluate("window.playground.state.errors")
    assert "bug" not in shown, shown
    alive = [t for t in threading.enumerate() if t.name == "playground-train"]
    assert alive and all(t.is_alive() for t in alive)
    # the page still trains: the chapter's preset, play, epochs go by
    if page.is_visible("#tab-btn-classify"):
        page.click("#tab-btn-classify")
    page.select_option("#preset", "chapter")
    _ready(page)
    assert np.isfinite(_trains(page, 50))


def test_three_classes_in_korean_is_the_readmes_second_picture(page, server, tmp_path):  # noqa: F811
    import os

    from test_playground_browser import DOCS

    page.goto(server + "?lang=ko&dataset=three&layers=6,4&act=tanh&speed=50&autoplay=1")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 600",
                           timeout=60_000)
    page.click("#play")
    page.wait_for_function("!window.playground.state.running")
    assert float(page.text_content("#test-acc").rstrip("%")) > 90
    assert page.text_content("#cb-name") == "가장 높은 클래스의 확률"
    page.hover("#network canvas.hidden-neuron >> nth=2")
    page.wait_for_selector("#neuron-zoom", state="visible")
    assert re.search(r"편향 -?\d+\.\d{4}", page.text_content("#neuron-zoom"))
    shot = page.screenshot(full_page=True)
    target = DOCS / "playground-ko.png" if os.environ.get("TORCHANN_UPDATE_DOCS") else \
        tmp_path / "playground-ko.png"
    target.write_bytes(shot)
