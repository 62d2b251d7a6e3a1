"""``torchann restore --lang ko``: the several-photos table, restore's lines and its errors in
Korean, with the English text unchanged."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from torchann.cli import main
from torchann.errors import TorchannError

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ERROR = "torchann: 오류: "


def _photo(path, seed):
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((24, 24, 3)) * 255).astype(np.uint8)).save(path)


def test_korean_several_photos_with_one_failing(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "a.png", 0)
    (folder / "broken.png").write_bytes(b"not a png at all")
    status = main(["restore", str(folder), "--corruption", "blur:gaussian,sigma=1",
                   "--steps", "5", "--out", str(tmp_path / "out"), "--quiet",
                   "--lang", "ko"])
    out, err = capsys.readouterr()
    assert status == 1
    table = out.splitlines()
    assert table[0].split()[:3] == ["사진", "상태", "초"]
    assert any(line.startswith("a.png") and "완료" in line for line in table)
    assert any(line.startswith("broken.png") and "실패" in line for line in table)
    assert "failed" not in out and "photos restored" not in out
    assert "사진 2장 중 1장을 복원해" in out and "1장은 실패했습니다" in out
    failure = [line for line in err.splitlines() if "broken.png" in line]
    assert len(failure) == 1 and failure[0].startswith(ERROR + str(folder / "broken.png"))
    assert "Traceback" not in err


def test_english_several_photos_table_is_unchanged():
    from torchann.commands._restore_many import _width, format_table

    rows = [{"photo": "x/a.png", "status": "ok", "seconds": 1.234, "weight": 0.01},
            {"photo": "x/b.png", "status": "failed", "error": "bad"}]
    assert format_table(rows).splitlines() == [
        "photo  status  seconds  weight  noise  PSNR  input  warning",
        "a.png  ok      1.23     0.01    -      -     -",
        "b.png  failed  -        -       -      -     -      bad"]
    korean = format_table(rows, "ko").splitlines()
    # a Hangul letter takes two cells: the columns line up on a terminal
    head, row = korean[0], korean[1]
    assert _width(head[:head.index("상태")]) == _width(row[:row.index("완료")]) == 7


@pytest.mark.parametrize("argv", [
    ["--corruption", "blur:gaussian,sigma=-1"],
    ["--corruption", "blur:wobble,size=3"],
    ["--corruption", "blur:box,size=4"],
    ["--corruption", "blur:gaussian,sigma=2", "--weight", "lots"],
])
def test_korean_restore_error_is_one_line_and_status_2(argv, tmp_path, capsys):
    status = main(["restore", *argv, "--out", str(tmp_path / "out"), "--lang", "ko"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(ERROR)
    assert HANGUL.search(err[len(ERROR):]), err


def test_korean_report_table_says_the_warning_and_the_words_in_korean():
    from torchann.commands._restore_output import shown_numbers

    summary = {"method": "cg", "condition_from": "random start", "warning": "the result ...",
               "alpha": "carried through unchanged", "steps": 3}
    shown = dict(shown_numbers(summary, "ko", "결과가 ..."))
    assert shown == {"method": "cg", "condition_from": "무작위 시작점", "warning": "결과가 ...",
                     "alpha": "바꾸지 않고 그대로 옮김", "steps": 3}
    assert dict(shown_numbers(summary, "en", "the result ...")) == summary


def test_korean_colour_line_and_joined_warning(tmp_path, capsys):
    _photo(tmp_path / "p.png", 1)
    status = main(["restore", str(tmp_path / "p.png"), "--corruption", "blur:gaussian,sigma=1",
                   "--prior", "none", "--steps", "2", "--out", str(tmp_path / "out"),
                   "--quiet", "--lang", "ko"])
    out, err = capsys.readouterr()
    assert status == 0
    assert "채널 3개 따로 복원" in out and "channels" not in out
    assert err.startswith("torchann: 경고: ") and "does not fit" not in err
    assert ". 또한 " in err  # the three channels' warnings joined in Korean


def test_english_library_errors_are_unchanged():
    from torchann import deblur

    with pytest.raises(TorchannError) as caught:
        deblur.parse_blur_spec("blur:box,size")
    assert str(caught.value) == ("'size' in 'blur:box,size' is not name=value; use e.g. "
                                 "blur:gaussian,sigma=2 or blur:box,size=5 or "
                                 "blur:motion,length=9,angle=30")
    assert caught.value.localized("ko").startswith("'blur:box,size'의 'size'이(가)")
    with pytest.raises(TorchannError) as caught:
        deblur.deblur_image(np.ones((9, 9)), np.ones((3, 3)), dtype="float16")
    assert str(caught.value) == "unknown dtype 'float16'; use one of float32, float64"
