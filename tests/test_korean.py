"""The commands in Korean: summaries, warnings, reports and errors, and the chapter's own log
lines left exactly as the book prints them."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torchann.cli import main

SRC = Path(__file__).resolve().parent.parent / "src"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Three English words in a row: a sentence (or most of one) left untranslated.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")
#: The book's log lines, which stay in English (SEED-FACTS.md, 3.2 and 3.3).
BOOK_LOG = re.compile(r"^(Before training, test loss is |After training, test loss is |"
                      r"Train loss at \d+ is |Loss at \d+ = )")
#: torch's own message for the chapter's x.view(2, 4), which the book prints as it is.
TORCH_VIEW = "shape '[2, 4]' is invalid for input of size 9"


def _english_sentences(text: str) -> list[str]:
    """The untranslated prose in ``text``: book log lines and torch's message set aside."""
    found = []
    for line in text.splitlines():
        if BOOK_LOG.match(line.strip()):
            continue
        found += ENGLISH.findall(line.replace(TORCH_VIEW, ""))
    return found


def _run(argv, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_detector_finds_english():
    assert _english_sentences("Wrote 3 files to out")
    assert not _english_sentences("Train loss at 100 is 0.5\n파일 3개를 썼습니다")


def test_korean_error_is_one_line_and_status_2(capsys, tmp_path):
    status, out, err = _run(["predict", "--lang", "ko", "--model", str(tmp_path / "no.pt"),
                             "-1", "1"], capsys)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("torchann: 오류: ")
    assert HANGUL.search(err[len("torchann: 오류: "):]) and not _english_sentences(err)


def test_korean_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--lang", "ko", "--epochs", "many"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("torchann: 오류: ")
    assert "'torchann train --help'" in err
    assert "--epochs" in err and not _english_sentences(err), err  # argparse's words too


def test_library_error_with_a_key_in_both_languages(capsys, tmp_path):
    argv = ["restore", str(tmp_path / "missing.npy"), "--out", str(tmp_path / "o")]
    assert _run([*argv, "--lang", "en"], capsys)[2].strip() == \
        f"torchann: error: {tmp_path / 'missing.npy'}: no such file; check the path"
    assert _run([*argv, "--lang", "ko"], capsys)[2].strip() == \
        f"torchann: 오류: {tmp_path / 'missing.npy'}: 그런 파일이 없습니다. 경로를 확인하세요"


def test_locale_gives_korean_by_default(tmp_path):
    """LANG=ko_KR.UTF-8, no --lang, in a fresh process: the error is Korean; TORCHANN_LANG
    wins over the locale."""
    def stderr(env):
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), **env}
        done = subprocess.run([sys.executable, "-m", "torchann", "predict"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        return done.stderr

    assert stderr({"LANG": "ko_KR.UTF-8"}).startswith("torchann: 오류: ")
    assert stderr({"LANG": "ko_KR.UTF-8", "TORCHANN_LANG": "en"}).startswith("torchann: error: ")
    assert stderr({"LANG": "C.UTF-8"}).startswith("torchann: error: ")


def test_korean_train_summary_and_warning(capsys, tmp_path):
    status, out, err = _run(["train", "--lang", "ko", "--epochs", "1", "--out",
                             str(tmp_path)], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("Before training, test loss is ")  # the book's line, as it is
    assert any(line.startswith("After training, test loss is ") for line in lines)
    prose = [line for line in lines if not BOOK_LOG.match(line)]
    assert prose and all(HANGUL.search(line) for line in prose), prose
    assert not _english_sentences(out + err), _english_sentences(out + err)
    assert "torchann: 경고: " in err  # one epoch: no better than the most common class
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and "학습 후 테스트 오차" in page


@pytest.mark.slow
def test_korean_demo(capsys, tmp_path):
    """Every prose line of the summary is Korean; report.html and tour.txt are Korean."""
    status, out, err = _run(["demo", "--lang", "ko", "--out", str(tmp_path)], capsys)
    assert status == 0
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 10
    assert all(HANGUL.search(line) for line in lines), [x for x in lines if not HANGUL.search(x)]
    assert not _english_sentences(out + err), _english_sentences(out + err)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page
    text = html.unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"(?s)<(style|pre)>.*?</\1>", "",
                                                             page)))
    assert not _english_sentences(text), _english_sentences(text)
    for heading in re.findall(r"<h2>(.*?)</h2>", page):
        assert HANGUL.search(heading), heading
    tour = (tmp_path / "tour.txt").read_text(encoding="utf-8")
    notes = [line for line in tour.splitlines() if line.startswith("# ")]
    assert notes and all(HANGUL.search(n) for n in notes)


def test_korean_train_on_a_table(capsys, tmp_path):
    """A table with an identifier, a text category and a blank: the task, the data decisions,
    auto's choice and the summary are Korean."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = ["id,age,city,sick"] + [
        f"P{i},{'' if i == 7 else round(float(rng.normal(50, 10)), 1)},"
        f"{['Seoul', 'Busan', 'Daegu'][i % 3]},{'yes' if i % 2 else 'no'}" for i in range(120)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, out, err = _run(["train", "--lang", "ko", "--data", str(tmp_path / "t.csv"),
                             "--label", "sick", "--epochs", "3", "--log-every", "0",
                             "--out", str(tmp_path / "out")], capsys)
    assert status == 0
    prose = [line for line in out.splitlines() if not BOOK_LOG.match(line)]
    assert any(line.startswith("과제: binary") for line in prose)
    assert any(line.startswith("데이터: id: 건너뜀") for line in prose)
    assert any(line.startswith("auto: ") and HANGUL.search(line) for line in prose)
    assert all(HANGUL.search(line) for line in prose), prose
    assert not _english_sentences(out + err), _english_sentences(out + err)
