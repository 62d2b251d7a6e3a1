"""3.2 Restoring an image corrupted by a known function.

An image ``x`` was corrupted by a known function, ``y = weird_function(x)``, and only ``y`` is
left. The chapter recovers ``x`` by gradient descent on the distance ``||f(x) - y||`` starting
from random noise. This package has the chapter's function and loss, that solver (``gd``), and
four faster ones (``cg``, ``lbfgs``, ``adam``, and ``gn`` for nonlinear corruptions) behind
one entry point, :func:`restore`; ``method="auto"`` picks ``cg`` for an affine corruption
and ``gn`` otherwise.

Every solver treats the forward function ``f`` as a black box: it only calls it and
differentiates it with autograd, so a user's own corruption works the same way
(:func:`load_corruption`). :func:`exact_solution` builds ``f``'s matrix column by column and
solves it directly; it is the yardstick the benchmark and the tests measure against.

Methods and their defaults
--------------------------
======  ======  =====  ======  =========================================================
method  steps   lr     tol     what a step is
======  ======  =====  ======  =========================================================
gd      20000   0.8    none    the seed's loop: ``x <- x - lr * grad ||f(x) - y||``
cg      1000    --     1e-6    one CGLS iteration: one call of ``f`` and one vjp
lbfgs   1000    1.0    1e-5    one evaluation of ``||f(x) - y||^2`` and its gradient
adam    2000    0.01   none    one Adam step on ``||f(x) - y||``
gn      100     --     1e-5    one Gauss-Newton step, Levenberg-Marquardt damped, by CGLS
======  ======  =====  ======  =========================================================

``tol`` stops a solver once the relative residual ``||f(x) - y|| / ||y||`` falls below it.
Every result says whether it converged, why it stopped and how well the data determine it
(:mod:`~torchann.restore.convergence`).

The code is split along its seams: :mod:`~torchann.restore.chapter` (the chapter's
``weird_function`` and ``distance_loss``), :mod:`~torchann.restore.corruption` (loading and
checking a forward function), :mod:`~torchann.restore.steps` (the solvers one step at a
time, as generators of iterates: ``gd``, ``adam``, ``cg``, ``gn``),
:mod:`~torchann.restore.solvers` (:func:`restore`, which drives them, and ``lbfgs``),
:mod:`~torchann.restore.least_squares` (CGLS and the Jacobian products, shared by ``cg`` and
``gn``), :mod:`~torchann.restore.convergence` (the condition estimate and the warning rule)
:mod:`~torchann.restore.quality` (PSNR and SSIM against an original) and
:mod:`~torchann.restore.figures`. Every public name is importable from
``torchann.restore`` itself.
"""

from torchann.restore.chapter import distance_loss, weird_function
from torchann.restore.corruption import (
    affine_offset,
    check_affine,
    check_forward,
    exact_solution,
    load_corruption,
)
from torchann.restore.figures import (
    demo_image,
    display_range,
    plot_comparison,
    plot_loss,
    plot_losses,
    plot_panels,
)
from torchann.restore.quality import quality
from torchann.restore.solvers import (
    DEFAULT_INIT,
    DIVERGENCE_FACTOR,
    INITS,
    LBFGS_HISTORY,
    METHODS,
    RestoreResult,
    choose_method,
    restore,
    start_point,
)

__all__ = [
    "DEFAULT_INIT", "DIVERGENCE_FACTOR", "INITS", "LBFGS_HISTORY", "METHODS", "RestoreResult",
    "affine_offset", "check_affine", "choose_method", "start_point",
    "check_forward", "demo_image", "display_range", "distance_loss", "exact_solution",
    "load_corruption", "plot_comparison", "plot_loss", "plot_losses", "plot_panels", "quality",
    "restore",
    "weird_function",
]
