"""The message catalogue: every key in both languages, compiled files up to date, every key the
code names present, and the language chosen from the option, TORCHANN_LANG or the locale."""

from __future__ import annotations

import gettext
import re
import string
from pathlib import Path

import pytest

from torchann import i18n
from torchann.errors import TorchannError

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "torchann"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _po(lang):
    babel = pytest.importorskip("babel.messages.pofile")
    with open(i18n.LOCALEDIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as f:
        catalog = babel.read_po(f)
    return catalog, {m.id: m.string for m in catalog if m.id}


def _fields(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


#: Values a Korean message leaves out: English details from another library (Python's csv and
#: json modules, Pillow) that would put English into a Korean sentence.
LEFT_OUT_IN_KOREAN = {"playground.csv_syntax": {"detail"}, "playground.message_integer": {"detail"},
                      "playground.race_unreadable": {"detail"}}


def test_every_key_has_both_languages():
    (_, en), (_, ko) = _po("en"), _po("ko")
    assert set(en) == set(ko), ("keys in one language only: "
                                f"{sorted(set(en) ^ set(ko))}")
    empty = [f"{lang}:{k}" for lang, texts in (("en", en), ("ko", ko))
             for k, v in texts.items() if not v]
    assert not empty, f"untranslated: {empty}"
    for key in en:
        left_out = LEFT_OUT_IN_KOREAN.get(key, set())
        assert _fields(en[key]) - left_out == _fields(ko[key]), f"{key}: the values differ"


def test_no_fuzzy_or_obsolete_entries():
    for lang in i18n.LANGUAGES:
        catalog, _ = _po(lang)
        assert not [m.id for m in catalog if m.id and m.fuzzy], f"{lang}: fuzzy entries"
        assert not catalog.obsolete, f"{lang}: obsolete entries"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_compiled_catalogue_is_up_to_date(lang):
    """The shipped .mo says exactly what the .po says (run pybabel compile after an edit)."""
    _, texts = _po(lang)
    with open(i18n.LOCALEDIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [k for k, v in texts.items() if compiled.gettext(k) != v]
    assert not stale, (f"{lang}: the .mo is stale for {stale[:5]}; run "
                       "'pybabel compile -d src/torchann/locale -D torchann'")


def test_korean_messages_are_korean():
    """A Korean entry that is word for word the English one is a forgotten translation, unless
    it holds no prose (a command name, a formula)."""
    (_, en), (_, ko) = _po("en"), _po("ko")
    prose = re.compile(r"\b[a-z]{3,} [a-z]{3,} [a-z]{3,}\b")
    same = [k for k in en if ko[k] == en[k] and prose.search(en[k])]
    assert not same, f"not translated: {same}"
    assert sum(bool(HANGUL.search(v)) for v in ko.values()) > 0.8 * len(ko)


#: A literal key handed to the catalogue: tr("k.e.y", ...), message("k.e.y"), key="k.e.y".
KEY_USE = re.compile(r"(?:\b(?:tr|message|Message|template)\(|\bkey=)\s*[\"']"
                     r"([a-z_]+(?:\.[a-z0-9_]+)+)[\"']")


def test_every_key_used_in_the_code_exists():
    used = {}
    for path in SRC.rglob("*.py"):
        for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, path.relative_to(ROOT))
    assert len(used) > 20, "the search for keys found almost nothing; is the pattern right?"
    missing = {k: str(p) for k, p in used.items() if not i18n.has(k)}
    assert not missing, f"keys not in the catalogue: {missing}"


#: A playground code named in the code: PageError("code", ...) or {"code": "code"} in Python,
#: { code: "code" } in the page's scripts.
CODE_USE = re.compile(r"""(?:\bPageError\(\s*|["']?\bcode["']?\s*:\s*)["']([a-z0-9_]+)["']""")


def test_every_playground_code_has_both_languages():
    """Each code the server or the page sends is the catalogue's playground.<code>, in English
    and in Korean, with the same values."""
    (_, en), (_, ko) = _po("en"), _po("ko")
    used = {}
    for path in [*SRC.rglob("*.py"), *(SRC / "playground" / "static").glob("*.js")]:
        for code in CODE_USE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, str(path.relative_to(ROOT)))
    assert len(used) > 35 and {"library", "diverged", "file_size"} <= set(used), sorted(used)
    missing = {c: p for c, p in used.items() if not (en.get(f"playground.{c}")
                                                     and ko.get(f"playground.{c}"))}
    assert not missing, f"codes without both languages: {missing}"
    assert all(HANGUL.search(ko[f"playground.{c}"]) for c in used)


def test_tr_fills_values_and_nested_messages():
    inner = i18n.message("file.missing", path="a.png")
    assert str(inner) == "a.png: no such file; check the path"
    assert i18n.tr("cli.error", "ko", message=inner) == \
        "torchann: 오류: a.png: 그런 파일이 없습니다. 경로를 확인하세요"
    with pytest.raises(KeyError):
        i18n.tr("no.such.key", "en")


def test_error_with_a_key_is_said_in_korean():
    err = TorchannError(key="predict.both")
    assert err.key == "predict.both"
    assert str(err) == "give either feature values or --csv FILE, not both"
    assert HANGUL.search(err.localized("ko"))
    plain = TorchannError("only English")
    assert plain.key is None and plain.localized("ko") == "only English"


@pytest.mark.parametrize("env, expected", [
    ({}, "en"),
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
    ({"LC_ALL": "C.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
    ({"TORCHANN_LANG": "ko", "LANG": "en_US.UTF-8"}, "ko"),
    ({"TORCHANN_LANG": "en", "LANG": "ko_KR.UTF-8"}, "en"),
])
def test_language_from_the_environment(monkeypatch, env, expected):
    for name in ("TORCHANN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert i18n.language() == expected
    assert i18n.language("en") == "en" and i18n.language("ko") == "ko"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        i18n.language("fr")


def test_the_playground_serves_its_messages():
    """The page can read the catalogue's playground.* messages, in either language."""
    testclient = pytest.importorskip("starlette.testclient")
    from torchann.playground.server import create_app

    with testclient.TestClient(create_app({"testserver"})) as client:
        en = client.get("/messages/en.json").json()
        ko = client.get("/messages/ko.json").json()
        assert client.get("/messages/fr.json").status_code == 404
    assert set(en) == set(ko) == set(i18n.keys("playground.")) and en
    assert en["playground.port"] == "--port {port}: use 0 to 65535"
    assert all(HANGUL.search(text) for text in ko.values())
    (_, en_po), (_, ko_po) = _po("en"), _po("ko")
    assert ko["playground.setting_range"] == ko_po["playground.setting_range"] == \
        "{name} {value}은(는) 범위를 벗어났습니다. {lo}에서 {hi} 사이로 고르세요."
    assert en["playground.diverged"] == en_po["playground.diverged"]
    assert "발산" in ko["playground.diverged"] and "diverged" in en["playground.diverged"]


def test_figures_fall_back_to_english_without_a_korean_font(monkeypatch):
    monkeypatch.setattr(i18n, "korean_font", lambda: None)
    lang, note = i18n.figure_language("ko")
    assert lang == "en" and "fonts-noto-cjk" in i18n.localize(note, "ko")
    assert i18n.figure_language("en") == ("en", None)
    from torchann.report import render_report

    page = render_report("t", [], lang="ko", note=i18n.localize(note, "ko"))
    assert page.count("fonts-noto-cjk") == 1 and '<html lang="ko">' in page


def test_figure_labels_are_translated():
    from torchann.io.writers import new_figure

    fig = new_figure()
    ax = fig.subplots()
    ax.plot([0, 1], label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("x1")  # a column's name stays
    ax.set_title("Loss (a loss is not an error rate)")
    ax.legend()
    i18n.translate_figure(fig, "ko")
    assert ax.get_xlabel() == "이폭" and ax.get_ylabel() == "x1"
    assert ax.get_title() == "오차 (오차는 오답률이 아닙니다)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["학습 오차"]


def test_argparse_messages_are_read_back():
    """argparse words its errors in English from fixed templates; the catalogue reads them back
    and says them again, unchanged in English."""
    text = "argument --optimizer: invalid choice: 'foo' (choose from 'sgd', 'adam')"
    found = i18n.recognize(text, "argparse.")
    assert found == text and found.key == "argparse.argument"
    said = i18n.localize(found, "ko")
    assert said.startswith("인자 --optimizer: ") and "'sgd', 'adam'" in said
    assert i18n.recognize("something argparse never says", "argparse.") is None
