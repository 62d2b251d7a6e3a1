"""torchann playground in a real headless browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from playground_helpers import export_files

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: "
                       "apt-get install chromium); the playground's browser tests need it"),
]
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def server():
    """The playground's app on uvicorn in a thread of this process, on a free port."""
    import socket
    import threading
    import time

    import uvicorn

    from torchann.playground.server import create_app
    from torchann.playground.session import warm_up

    warm_up()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    app = create_app({f"127.0.0.1:{port}", f"localhost:{port}"})
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    # bypass_csp: Playwright evaluates its wait conditions as strings, which the page's CSP forbids
    context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                  accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _epoch(page):
    return int(page.text_content("#epoch"))


def _loss(page):
    return float(page.text_content("#test-loss"))


def _wait_current(page):
    """Wait until the page shows a frame of its latest settings."""
    page.wait_for_function("window.playground.state.frame && "
                           "window.playground.state.frame.version === "
                           "window.playground.state.sent")


def _heatmap(page):
    return page.eval_on_selector("#heatmap", "c => c.toDataURL()")


def test_autoplay_trains_the_chapters_network_and_exports_it(page, server, tmp_path):
    page.goto(server + "?autoplay=1&speed=20")
    page.wait_for_function("document.getElementById('test-loss').textContent !== '-'")
    start_epoch, start_loss, start_map = _epoch(page), _loss(page), _heatmap(page)
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > "
                           f"{max(start_epoch, 0) + 200}", timeout=60_000)
    assert _loss(page) < start_loss
    assert _heatmap(page) != start_map
    assert "class NeuralNet(nn.Module)" in page.text_content("#code")
    # trained further, it is the README's picture (TORCHANN_UPDATE_DOCS=1 rewrites docs/);
    # a new pace keeps the training where it is
    page.select_option("#speed", "100")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 1200",
                           timeout=60_000)
    page.click("#play")
    shot = page.screenshot(full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    target = DOCS / "playground.png" if os.environ.get("TORCHANN_UPDATE_DOCS") else \
        tmp_path / "playground.png"
    target.write_bytes(shot)
    # export: model.pt is the chapter's state_dict, model.json describes it
    import torch

    from torchann.classify.chapter import NeuralNet

    files = export_files(page, tmp_path)
    assert set(files) == {"model.pt", "model.json"}
    model = NeuralNet(2, 5)
    model.load_state_dict(torch.load(io.BytesIO(files["model.pt"].read_bytes()),
                                     weights_only=True))
    assert json.loads(files["model.json"].read_text())["hidden_size"] == 5
    with torch.no_grad():  # trained: the chapter's question, [-1, 1], is label 1
        assert model(torch.tensor([[-1.0, 1.0]])).item() > 0.5


def test_spiral_with_another_layer_learns(page, server):
    page.goto(server + "?speed=100")
    page.wait_for_function("document.getElementById('test-loss').textContent !== '-'")
    code = page.text_content("#code")
    page.select_option("#dataset", "spiral")
    page.select_option("#act", "tanh")
    page.select_option("#opt", "adam")
    page.select_option("#lr", "0.03")
    page.click("#add-layer")
    page.wait_for_function("document.getElementById('code').textContent.includes('linear_3')")
    assert page.text_content("#code") != code
    assert "make_dataset(\n    'spiral'" in page.text_content("#code")
    assert "layers=5%2C4" in page.url and "dataset=spiral" in page.url
    _wait_current(page)
    start = float(page.text_content("#train-loss"))
    assert _epoch(page) == 0
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 300",
                           timeout=60_000)
    assert float(page.text_content("#train-loss")) < start - 0.1
    # the weights are links; hovering one shows its value
    titles = page.eval_on_selector_all("#links line title", "ts => ts.map(t => t.textContent)")
    assert len(titles) == 2 * 5 + 5 * 4 + 4 and all(re.fullmatch(r"weight -?\d+\.\d{4}", t)
                                                     for t in titles)


def test_a_link_reproduces_the_experiment(page, server):
    page.goto(server + "?dataset=circle&layers=3,2&act=tanh&features=x1sq,x2sq&opt=adam"
              "&lr=0.1&reg=l2&rate=0.01&seed=7")
    _wait_current(page)
    code = page.text_content("#code")
    assert "make_dataset(\n    'circle'" in code and "seed=7" in code
    assert "self.linear_3 = nn.Linear(2, 1)" in code and "nn.Tanh()" in code
    assert "torch.optim.Adam" in code and "reg_rate = 0.01" in code
    assert page.is_checked("#feat-x1sq") and not page.is_checked("#feat-x1")
    assert page.input_value("#act") == "tanh"
    # a message the server cannot use is answered with an error shown in the page
    assert page.is_hidden("#error")
    page.evaluate("window.playground.send({type: 'launch'})")
    page.wait_for_selector("#error", state="visible")
    assert "unknown message type" in page.text_content("#error")


def test_korean(page, server):
    page.goto(server + "?lang=ko")
    page.wait_for_function("document.getElementById('test-loss').textContent !== '-'")
    assert page.text_content("#play") == "재생"
    assert "이폭" in page.text_content("body") and "테스트 오차" in page.text_content("body")
    page.click("#lang")
    assert page.text_content("#play") == "Play" and "lang=en" in page.url
    assert page.text_content("#lang") == "한국어 (ko)"


def test_race_cg_finishes_while_gd_stalls(page, server):
    page.goto(server + "?tab=race&rspeed=100")
    page.wait_for_function("document.getElementById('race-a-psnr').textContent !== '-'")
    page.click("#race-play")
    page.wait_for_function("document.getElementById('race-b-step').textContent.includes('(')",
                           timeout=60_000)
    cg, gd = float(page.text_content("#race-b-psnr")), float(page.text_content("#race-a-psnr"))
    assert cg >= 80 and gd < 45, (cg, gd)
    assert "cg" in page.text_content("#race-why")


def test_an_uploaded_csv_becomes_the_data(page, server):
    rows = "".join(f"{x},{y},{int(x * y > 0)}\n" for x in range(-5, 6) for y in range(-5, 6))
    page.goto(server)
    _wait_current(page)
    page.set_input_files("#csv-file", files=[{"name": "mine.csv", "mimeType": "text/csv",
                                              "buffer": ("x1,x2,label\n" + rows).encode()}])
    page.wait_for_function("document.getElementById('code').textContent.includes('mine.csv')")
    _wait_current(page)
    assert "load_csv(" in page.text_content("#code")
    assert page.input_value("#dataset") == "csv"
    assert page.evaluate("window.playground.state.setup.train.length") == 97  # 80% of 121
