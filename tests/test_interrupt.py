"""Ctrl-C on a real process: exit status 130, the step reached, no files written, earlier
outputs intact.

The command runs in a child process with a step count it could never finish; once its first
log line shows that the loop has started, the test sends SIGINT, as a terminal would
(``hostile_inputs.interrupt_run``, shared with ``benchmarks/robustness.py``).
"""

import hostile_inputs as h
import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", h.INTERRUPTS)
def test_ctrl_c_stops_cleanly(tmp_path, name):
    argv, prefix, pattern = h.INTERRUPTS[name]
    result = h.interrupt_run(argv, prefix, tmp_path)
    assert result.problems(pattern) == [], result.stderr
