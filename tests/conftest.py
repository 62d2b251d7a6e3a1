"""Shared test set-up."""

import os

import pytest

# The tests expect English unless they ask for Korean (a machine with LANG=ko_KR.UTF-8 would
# otherwise answer in Korean); set before any command runs, so subprocesses inherit it.
os.environ["TORCHANN_LANG"] = "en"


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Run each test module on one torch thread, as the CLI does for the chapter's sizes.

    On a shared 2-core machine several threads only wait on each other for a 100x100 image or
    80 points (see benchmarks/restore.py and benchmarks/classify.py). Set per module because
    the CLI, run in-process, may change the count.
    """
    import torch

    torch.set_num_threads(1)
    yield
