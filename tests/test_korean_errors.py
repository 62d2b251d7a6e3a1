"""The library's errors in Korean: the mistakes a learner meets most (a missing file, a bad
option value, a file that is not a model or not a table) said in Korean through the CLI, and a
count of the errors still said only in English, which may shrink but not grow."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from torchann import i18n
from torchann.cli import main

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "torchann"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Three English words in a row: a sentence (or most of one) left untranslated.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")

#: The modules whose errors have catalogue keys, and the errors they still word only in
#: English, by file. The distributed launcher passes on a worker's own line as it is.
KEYLESS = {"classify/distributed.py": 1}
COVERED = ("io", "classify", "commands/train.py", "commands/predict.py", "commands/demo.py",
           "commands/playground.py", "commands/tensors.py", "cli.py", "runtime.py",
           "tensors.py", "playground")


def _error_calls(path: Path):
    """The ``TorchannError(...)`` calls in ``path``, each as (line, key or None)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TorchannError":
            key = next((kw.value.value for kw in node.keywords if kw.arg == "key"
                        and isinstance(kw.value, ast.Constant)), None)
            yield node.lineno, key


def _covered_files():
    for name in COVERED:
        path = PACKAGE / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_errors_without_a_key_do_not_grow():
    keyless = Counter()
    for path in _covered_files():
        for _, key in _error_calls(path):
            if key is None:
                keyless[path.relative_to(PACKAGE).as_posix()] += 1
    grown = {f: n for f, n in keyless.items() if n > KEYLESS.get(f, 0)}
    assert not grown, f"errors worded only in English (give them a catalogue key): {grown}"


def test_every_key_an_error_names_is_in_the_catalogue():
    missing = [f"{path.relative_to(PACKAGE)}:{line}: {key}"
               for path in sorted(PACKAGE.rglob("*.py")) for line, key in _error_calls(path)
               if key is not None and not i18n.has(key)]
    assert not missing, missing


def _korean_error(argv, capsys):
    try:
        status = main([*argv, "--lang", "ko"])
    except SystemExit as stop:  # a usage error
        status = stop.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "", (status, out, err)
    assert len(err.splitlines()) == 1 and err.startswith("torchann: 오류: "), err
    said = err[len("torchann: 오류: "):].rstrip("\n")
    assert HANGUL.search(said) and not ENGLISH.findall(said), err
    return said


def test_korean_missing_data_file(capsys, tmp_path):
    said = _korean_error(["train", "--data", str(tmp_path / "no.csv"), "--label", "y"], capsys)
    assert "no.csv" in said and "파일이 없습니다" in said


@pytest.mark.parametrize("lr", ["-1", "0", "abc"])
def test_korean_bad_lr(capsys, lr):
    said = _korean_error(["train", "--lr", lr], capsys)
    assert "--lr" in said and "`" not in said


def test_korean_model_file_that_is_not_one(capsys, tmp_path):
    model = tmp_path / "model.pt"
    model.write_text("hello\n")
    said = _korean_error(["predict", "--model", str(model), "-1", "1"], capsys)
    assert said.startswith(f"{model}: ") and "state_dict" in said


def test_korean_table_that_is_not_utf8(capsys, tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes(b"a,b\n1,\x80\n")
    said = _korean_error(["train", "--data", str(table), "--label", "b"], capsys)
    assert "UTF-8" in said


def test_korean_picture_that_runs_code(capsys, tmp_path):
    hostile = tmp_path / "evil.p"
    hostile.write_bytes(b"cos\nsystem\n(S'true'\ntR.")  # a pickle that calls os.system
    said = _korean_error(["restore", str(hostile)], capsys)
    assert "피클" in said and "system" in said


def test_english_errors_keep_their_words(capsys, tmp_path):
    model = tmp_path / "model.pt"
    model.write_text("hello\n")
    assert main(["predict", "--lang", "en", "--model", str(model), "-1", "1"]) == 2
    assert capsys.readouterr().err == (
        f"torchann: error: {model}: not a readable state_dict (truncated, corrupt or not a "
        "torch.save file); only plain state_dicts saved with torch.save load\n")


def test_library_messages_name_parameters_not_flags():
    """The keyed form of tests/test_errors.py's check: a library error's template, in either
    language, names parameters in backticks, never CLI flags."""
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "commands" or relative.name == "cli.py":
            continue
        for line, key in _error_calls(path):
            for lang in i18n.LANGUAGES:
                if key is not None and flag.search(i18n.template(key, lang)):
                    found.append(f"{relative}:{line}: {key} ({lang})")
    assert not found, found


def test_the_playground_page_says_a_library_error_in_korean(tmp_path):
    import json
    import shutil
    import subprocess

    from torchann.errors import TorchannError
    from torchann.playground.messages import as_message

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is absent")
    msg = as_message(TorchannError(key="io.loaders.not_an_image"))
    assert msg["message"] == "the file is not a readable PNG or JPEG image"
    assert msg["said"]["ko"] == i18n.tr("io.loaders.not_an_image", "ko")
    script = tmp_path / "say.mjs"
    script.write_text(
        "const [, , path, lang, msg, cat] = process.argv;\n"
        "globalThis.fetch = async () => ({ ok: true, json: async () => JSON.parse(cat) });\n"
        "const m = await import(path);\nawait m.loadMessages(lang);\n"
        "console.log(m.say(lang, JSON.parse(msg)));\n")
    page = PACKAGE / "playground" / "static" / "i18n.js"
    said = {}
    for lang in i18n.LANGUAGES:
        said[lang] = subprocess.run(
            [node, str(script), page.as_uri(), lang, json.dumps(msg),
             json.dumps(i18n.entries("playground.", lang))],
            capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert said["en"] == msg["message"]
    assert said["ko"] == i18n.tr("playground.library", "ko", message=msg["said"]["ko"])
    assert HANGUL.search(said["ko"]) and not ENGLISH.findall(said["ko"])


def test_korean_text_in_a_numeric_column(capsys, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,0\nabc,1\n2,0\n3,1\n")
    said = _korean_error(["train", "--data", str(table), "--label", "b"], capsys)
    assert said == f"{table}: 3번째 줄, 열 'a': 'abc': 수가 아닙니다"
    assert main(["train", "--lang", "en", "--data", str(table), "--label", "b"]) == 2
    assert capsys.readouterr().err == (
        f"torchann: error: {table}: line 3, column 'a': 'abc' is not a number\n")


def test_a_list_in_an_error_keeps_its_english_form():
    from torchann.classify.tasks import Task
    from torchann.errors import TorchannError

    with pytest.raises(TorchannError) as caught:
        Task.from_json({"task": "binary", "classes": ["a", "b", "c"]})
    assert str(caught.value) == ("the model description lists classes ['a', 'b', 'c'], which "
                                 "do not fit a binary task; retrain the model")
    assert "['a', 'b', 'c']" in caught.value.localized("ko")
