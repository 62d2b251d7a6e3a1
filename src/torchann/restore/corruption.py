"""Loading a user's forward function and checking that the solvers can use it."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import torch

from torchann.errors import TorchannError
from torchann.restore.chapter import weird_function


def load_corruption(spec: str):
    """Turn a corruption spec (the command's ``--corruption``) into a forward function.

    Parameters
    ----------
    spec : str
        ``weird`` (the chapter's :func:`weird_function`), ``module:function`` (an importable
        module) or ``path/to/file.py:function`` (a Python file). The prefix ``blur:`` is
        reserved for built-in blur models.

    Returns
    -------
    callable
        Takes and returns a flat float tensor. Check it on data with :func:`check_forward`.

    Raises
    ------
    TorchannError
        When the spec is malformed, the module or file cannot be loaded, or the name is
        missing or not callable.

    Notes
    -----
    Loading a module runs its code, as ``import`` does: name only code you trust.
    """
    spec = spec.strip()
    if spec == "weird":
        return weird_function
    if spec.startswith("blur:"):
        raise TorchannError(f"`corruption={spec}`: built-in blur models are not available in "
                            "this version; use 'weird' or module:function")
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name.isidentifier():
        raise TorchannError(key="corruption.spec", spec=spec)
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _load_file(Path(target), spec)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as err:
            raise TorchannError(key="corruption.no_module", spec=spec,
                                name=err.name) from None
        except Exception as err:
            raise TorchannError(key="corruption.import_failed", spec=spec, target=target,
                                error=f"{type(err).__name__}: {err}") from None
    func = getattr(module, name, None)
    if func is None:
        raise TorchannError(key="corruption.no_function", spec=spec, target=target, name=name)
    if not callable(func):
        raise TorchannError(key="corruption.not_callable", spec=spec, target=target,
                            name=name)
    return func


def _load_file(path: Path, spec: str):
    if not path.is_file():
        raise TorchannError(key="file.no_corruption", spec=spec, path=path)
    mod_name = f"torchann_corruption_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        module_spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(mod_name, None)
        raise TorchannError(key="corruption.run_failed", spec=spec, path=path,
                            error=f"{type(err).__name__}: {err}") from None
    return module


def check_forward(forward, x):
    """Call ``forward`` once on ``x`` and check that a solver can use it.

    Parameters
    ----------
    forward : callable
        The corruption: a flat float tensor in, a flat float tensor out.
    x : torch.Tensor
        A flat sample input.

    Returns
    -------
    torch.Tensor
        ``forward(x)``, detached.

    Raises
    ------
    TorchannError
        When it fails, returns something other than a float tensor of ``x``'s shape,
        is not differentiable, or gives NaN or infinite values.
    """
    name = getattr(forward, "__name__", "the corruption")
    sample = x.detach().clone().requires_grad_(True)
    try:
        out = forward(sample)
    except Exception as err:
        raise TorchannError(key="corruption.failed", name=name, count=x.numel(),
                            error=f"{type(err).__name__}: {err}") from None
    if not isinstance(out, torch.Tensor):
        raise TorchannError(key="corruption.not_tensor", name=name, type=type(out).__name__)
    if not out.is_floating_point():
        raise TorchannError(key="corruption.not_float", name=name, dtype=str(out.dtype))
    if out.shape != x.shape:
        raise TorchannError(key="corruption.shape", name=name, before=str(tuple(x.shape)),
                            after=str(tuple(out.shape)))
    if not out.requires_grad:
        raise TorchannError(key="corruption.no_grad", name=name)
    if not torch.isfinite(out).all():
        raise TorchannError(key="corruption.not_finite", name=name)
    return out.detach()


def exact_solution(broken, forward=weird_function, chunk=50):
    """Solve ``forward(x) = broken`` directly, for a linear (or affine) ``forward``.

    The matrix is built column by column, ``A[:, j] = forward(e_j) - forward(0)``, in
    float64 with ``torch.func.vmap`` (so ``forward`` must be vmappable), stored sparse, and
    solved with scipy's sparse LU.

    Parameters
    ----------
    broken : array-like or torch.Tensor
        The corrupted signal, any shape (flattened).
    forward : callable
        The corruption.
    chunk : int
        Columns built per call.

    Returns
    -------
    torch.Tensor
        Flat float64 solution on the CPU.
    """
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    y = torch.as_tensor(broken, dtype=torch.float64).reshape(-1).cpu()
    n = y.numel()
    with torch.no_grad():
        offset = forward(torch.zeros(n, dtype=torch.float64))
        batched = torch.func.vmap(forward)
        rows = []
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            basis = torch.zeros(stop - start, n, dtype=torch.float64)
            basis[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
            rows.append(sp.csr_matrix((batched(basis) - offset).numpy()))
    matrix = sp.vstack(rows).T.tocsc()  # row j of the stack is column j of A
    x = spl.spsolve(matrix, (y - offset).numpy())
    if not np.isfinite(x).all():
        raise TorchannError(key="corruption.singular")
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


def affine_offset(forward, n, like):
    """``f(0)`` when ``forward`` is affine, else None.

    Affine means ``f(2u - v) = 2 f(u) - f(v)`` on two random points ``u``, ``v``, to a
    relative gap of 1e-4 (the test ``cg`` has always made). ``method="auto"`` uses it to
    choose ``cg`` or ``gn``.
    """
    gen = torch.Generator().manual_seed(1234)
    u = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    v = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    with torch.no_grad():
        f0, fu, fv, fuv = (forward(z) for z in (torch.zeros_like(u), u, v, 2.0 * u - v))
    gap = (fuv - (2.0 * fu - fv)).norm()
    scale = fu.norm() + fv.norm() + f0.norm()
    return f0 if gap <= 1e-4 * scale else None


def check_affine(forward, n, like):
    """Refuse a forward function that is not affine: ``cg`` would solve the wrong problem.

    Returns ``f(0)``.
    """
    f0 = affine_offset(forward, n, like)
    if f0 is None:
        raise TorchannError(key="corruption.not_linear")
    return f0
