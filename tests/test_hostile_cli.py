"""The catalogue of hostile and broken inputs, through the command line.

Every case in ``hostile_inputs.catalogue()`` must end in exit status 2 with one line
``torchann: error: ...`` (naming what is wrong), no traceback, no marker file from a payload,
no partial file, no output written and no input changed. The cases run in this process
(``torchann.cli.main``) to keep the suite fast; ``benchmarks/robustness.py`` runs the same
catalogue through real processes, and ``test_robustness_benchmark_runs`` below runs a sample
of it that way.
"""

import hostile_inputs as h
import pytest

CASES = h.catalogue()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_gets_one_clear_error_and_no_side_effect(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    outcome = h.run_case(case, tmp_path / "case")
    assert outcome.ok, outcome.explain()


def test_catalogue_covers_every_input_class():
    classes = {c.klass for c in CASES}
    assert {"pickle payloads", "broken pickles", ".npy arrays", "arrays that are not an image",
            "images", "corruption functions", "hyperparameters", "CSVs",
            "outputs"} <= classes
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["os.system (opcodes)", "copyreg._reconstructor"])
def test_payload_through_a_real_process(tmp_path, name):
    """A real process too: one line, exit 2, and the payload never ran."""
    case = next(c for c in CASES if c.klass == "pickle payloads" and c.name == name)
    outcome = h.run_case(case, tmp_path / "case",
                         runner=lambda argv: h.run_subprocess(argv, cwd=tmp_path))
    assert outcome.ok, outcome.explain()
