"""The modular learning rule: find each module's input projection by minimising a kernel objective.

If one module, reading ``z = U^T x``, had to fit the whole target alone, its minimum-norm weights would have
squared norm ``y^T (K_U + ridge*I)^(-1) y``, with ``K_U`` the kernel of the module's features on the projected
inputs. A projection that makes the target easy for the module makes this norm small. The rule (the paper's
Eq. 17 and Algorithm 1) minimises it over ``U`` by gradient steps on minibatches, keeping ``U``'s columns
orthonormal, from a random start, once per module; the modular network is then initialised with the found
projections and all of its parameters are trained on the task loss.

Variants of :func:`find_module_projections`:

``"paper"``
    Algorithm 1: ``n_modules`` independent random starts on the same target.
``"deflation"``
    Find one module, fit it to the target by kernel ridge regression, subtract the fit, and search again on
    the residual, so that later modules cannot return to a module already found.
``"backfit"``
    Deflation, then ``refine_passes`` rounds of backfitting: each module is searched again, from where it
    is, on the target minus the other modules' fits. This repairs a first module that settled between two
    true ones before the others were known.
``"spectral"``
    Coarse to fine. First estimate the span of all modules' projections from the target's first two moments,
    ``E[y x]`` and ``E[y (x x^T - I)]`` (:func:`moment_span`): for Gaussian inputs both lie in that span, and
    estimating them needs a number of samples proportional to ``m``. Then run the backfit search inside the
    span (``K*b`` dimensions instead of ``m``), lift the result back, and end with a deflation pass and one
    backfitting round in ``R^m`` from there, which correct the span's own estimation error. A search from a
    random start in
    ``m`` dimensions begins with ``cos^2 = b/m`` to the truth and a gradient signal that fades with ``m``;
    inside the span it does not.
``"grouped"``
    For ``b >= 2``, where the searches above find the span but pair directions of different modules: the
    :func:`moment_span`, split into modules by :func:`modscale_lib.rule.group_directions` (an additive
    target has no mixed second derivatives across modules, so a fitted model's Hessians are jointly
    block-diagonalised) and refitted jointly in ``R^m``. Needs one target column, Gaussian-like inputs and
    ``K*b <= m``; ignores the kernel settings; costs time linear in ``n`` (about 30 s at ``n = 6000``, ``m = 12``).
``"newton"``
    For one target column and ``K*b <= m``, any ``b``: the moment span refined by closed-form Gauss-Newton
    steps with a kernel model inside it, split into modules by the same joint block diagonalisation of
    Hessians as ``"grouped"``, then all modules refitted by Gauss-Newton steps with an additive model
    (:func:`modscale_lib.rule.newton_projections`). No Adam loop: about a second at ``n = 6000``,
    ``m = 12``, ``K = 3``, ``b = 2`` (``benchmarks/bench_rule.py``). Needs Gaussian-like inputs; ignores the
    kernel settings.
``"auto"`` (the default)
    ``"newton"`` when ``y`` is one column and ``K*b <= m``, any ``b``; ``"backfit"`` otherwise (several target
    columns, as in the classification chapter). Until the fast variant it was ``"grouped"`` for ``b >= 2`` and
    ``"backfit"`` for ``b = 1``; the chapter "Modules of more than one dimension" measured the fast variant against
    both on every stored task before the default moved. Stored results name their variant, so none changed.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import core
from ..core import single_thread, single_threaded, torch_generator  # noqa: F401
from ..methods import RULE_VARIANTS
from ._kernels import (
    KERNELS,
    ModuleAtInit,
    as_float_tensor,
    cross_kernel,
    kernel_matrix,  # noqa: F401
)
from ._span import moment_span

__all__ = [
    "kernel_objective",
    "find_module_projections",
    "VARIANTS",
    "DEFAULTS",
    "KernelNotPositiveDefiniteError",
    "orthonormalise",
    "AUTO",
    "resolve_variant",
    "RuleDivergedError",
]

VARIANTS = RULE_VARIANTS
AUTO = "auto"  # newton for one target column and K b <= m, backfit otherwise (see resolve_variant)
#: The rule's settings, written once (find_module_projections's defaults, which experiments refer to).
DEFAULTS = {
    "variant": "auto",
    "kernel": "features",
    "steps": 300,
    "lr": 0.05,
    "batch_size": 512,
    "ridge": 1e-2,
    "width": 256,
    "depth": 1,
    "refine_passes": 2,
}


class KernelNotPositiveDefiniteError(np.linalg.LinAlgError):
    """The regularised kernel matrix has no Cholesky factor: raise the ridge."""


def orthonormalise(A: torch.Tensor) -> torch.Tensor:
    """The orthonormal factor ``Q`` of ``A = QR`` (columns of ``A`` in order), with signs fixed so ``diag R > 0``.

    A: (..., m, b) with b <= m and linearly independent columns (a zero or rank-deficient ``A`` raises
    ``ValueError``: its orthonormal factor would be arbitrary). Differentiable. A numpy array is accepted (as
    float32).
    """
    A = as_float_tensor(A, "A")
    if A.dim() < 2 or A.shape[-1] > A.shape[-2] or A.shape[-1] < 1:
        raise ValueError(f"A must have shape (..., m, b) with 1 <= b <= m, got {tuple(A.shape)}")
    Q, R = torch.linalg.qr(A)
    diag = torch.diagonal(R, dim1=-2, dim2=-1).detach().abs()
    scale = torch.linalg.matrix_norm(A.detach()).clamp_min(torch.finfo(A.dtype).tiny)
    if bool(torch.any(diag <= 10 * torch.finfo(A.dtype).eps * scale[..., None])):
        # a zero or rank-deficient A has no unique orthonormal factor: QR would return an arbitrary one
        raise ValueError(
            f"A must have linearly independent columns (shape {tuple(A.shape)}); a column is zero "
            "or a combination of the others"
        )
    signs = torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return Q * signs[..., None, :]


def kernel_objective(
    U: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    kernel="features",
    ridge: float = 1e-3,
    module=None,
    normalise: bool = False,
) -> torch.Tensor:
    """``tr(Y^T (K_U + ridge*I)^(-1) Y) / B``: the squared norm a module reading ``U^T x`` needs to fit ``y``.

    Parameters
    ----------
    U : (m, b) projection (differentiable). X : (B, m) inputs. y : (B,) or (B, d) targets.
    kernel : ``"features"``, ``"ntk"``, ``"rbf"``, or a callable ``z -> (B, B)`` kernel matrix.
    ridge : the ``ridge*I`` added for stability (> 0). module : the module at initialisation, for the
        ``features`` and ``ntk`` kernels.
    normalise : divide the kernel matrix by its mean diagonal. Needed when inputs are not white (images):
        otherwise a projection onto high-variance directions inflates the kernel and lowers the objective
        for a reason that has nothing to do with fitting ``y``.

    Raises
    ------
    KernelNotPositiveDefiniteError : when ``K_U + ridge*I`` has no Cholesky factor.
    """
    ridge = core.real(ridge, "ridge", low=0.0, low_open=True)
    normalise = core.boolean(normalise, "normalise")
    if not callable(kernel):
        kernel = core.choice(kernel, "kernel", KERNELS)
    U, X, y = as_float_tensor(U, "U", ndim=2), as_float_tensor(X, "X", ndim=2), as_float_tensor(y, "y", ndim=(1, 2))
    if U.shape[0] != X.shape[1] or X.shape[0] != y.shape[0] or X.shape[0] < 1:
        raise ValueError(
            f"U must be (m, b), X (B, m) and y (B,) or (B, d) with B >= 1, got {tuple(U.shape)}, "
            f"{tuple(X.shape)} and {tuple(y.shape)}"
        )
    core.check_size(X.shape[0] ** 2, "X's rows squared (the kernel matrix)")
    z = X @ U
    K = kernel(z) if callable(kernel) else kernel_matrix(kernel, z, module)
    if normalise:
        K = K / K.diagonal().mean().clamp_min(1e-12)
    Y = y[:, None] if y.dim() == 1 else y
    eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    with torch.no_grad():
        L, info = torch.linalg.cholesky_ex(K + ridge * eye)
        if int(info) != 0:
            raise KernelNotPositiveDefiniteError(
                f"the kernel matrix plus ridge {ridge:g} is not positive definite "
                f"(Cholesky failed at column {int(info)}); increase ridge"
            )
        alpha = torch.cholesky_solve(Y, L)
    # Equal in value to tr(Y^T (K + ridge I)^-1 Y), with the exact gradient -alpha alpha^T with respect to K,
    # but without differentiating through the Cholesky factorisation (most of the cost).
    value = 2 * (Y * alpha).sum() - (alpha * ((K + ridge * eye) @ alpha)).sum()
    return value / Y.shape[0]


def _features_objective_low_rank(U, X, y, module, ridge, normalise=False):
    """:func:`kernel_objective` for the ``features`` kernel with the gradient taken through ``phi^T alpha``.

    ``K = phi phi^T`` (phi scaled), so ``alpha^T K alpha = |phi^T alpha|^2``: the same value and the same exact
    gradient, but autograd never forms a (B, B) matrix (cost O(B w) instead of O(B^2 w)). Equal to the
    default path up to float rounding, not bit for bit (opt-in: ``low_rank_gradient=True``).
    """
    phi = module.features(X @ U) / module.net.width**0.5
    if normalise:
        phi = phi / phi.pow(2).sum(dim=1).mean().clamp_min(1e-12).sqrt()
    Y = y[:, None] if y.dim() == 1 else y
    with torch.no_grad():
        K = torch.addmm(torch.eye(phi.shape[0], dtype=phi.dtype).mul_(ridge), phi, phi.T)
        L, info = torch.linalg.cholesky_ex(K)
        if int(info) != 0:
            raise KernelNotPositiveDefiniteError(
                f"the kernel matrix plus ridge {ridge:g} is not positive definite "
                f"(Cholesky failed at column {int(info)}); increase ridge"
            )
        alpha = torch.cholesky_solve(Y, L)
    value = 2 * (Y * alpha).sum() - (phi.T @ alpha).pow(2).sum() - ridge * alpha.pow(2).sum()
    return value / Y.shape[0]


def _inputs(value, name: str, arguments: dict) -> np.ndarray:
    """The ``X`` rule: an (n, m) float array with n >= 2 and m >= 1."""
    X = core.array(value, name, ndim=2, min_rows=2)
    if X.shape[1] < 1:
        raise ValueError(f"X must have at least one column, got shape {X.shape}")
    return X


def _targets(value, name: str, arguments: dict) -> np.ndarray:
    """The ``y`` rule: (n,) or (n, d) to match ``X``, and not constant."""
    X = arguments["X"]
    y = core.array(value, name, ndim=(1, 2))
    if y.shape[:1] != (X.shape[0],) or (y.ndim == 2 and y.shape[1] == 0):
        raise ValueError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, d) to match X, got {y.shape}")
    if not np.any(y != y[:1]):
        raise ValueError("y is constant: it depends on no direction of X, so there are no projections to find")
    return y


def _variant(value, name: str, arguments: dict) -> str:
    """The ``variant`` rule: one of ``VARIANTS``, with ``"auto"`` resolved (:func:`resolve_variant`)."""
    X, y = arguments["X"], arguments["y"]
    columns = 1 if y.ndim == 1 else y.shape[1]
    return resolve_variant(value, arguments["n_modules"], arguments["module_dim"], X.shape[1], columns)


def _list_or_none(value, name: str, arguments: dict):
    if value is not None and not isinstance(value, list):
        raise TypeError(f"{name} must be None or a list, got {type(value).__name__}")
    return value


def _check_costs(X, n_modules, module_dim, steps, batch_size, width, refine_passes, return_history) -> None:
    """Refuse a search whose kernel matrices, features, projections, loop or history would be too large."""
    points = min(4 * batch_size, X.shape[0])
    core.check_size(points * points, "batch_size (4 * batch_size points in the kernel fit)")
    core.check_size(max(points, X.shape[0]) * width, "width (the module's features at every point)")
    core.check_size(n_modules * X.shape[1] * module_dim, "n_modules * m * module_dim")
    core.check_count(n_modules * steps * (1 + refine_passes), "n_modules * steps * (1 + refine_passes)", limit=10**8)
    if return_history:
        core.check_size(
            n_modules * steps * (2 + refine_passes) * X.shape[1] * module_dim,
            "the history (n_modules * steps * passes * m * module_dim)",
        )


def _check_variant_needs(variant, y, init, return_history, n_modules, module_dim, input_dim) -> None:
    """Refuse what the variants that start from the moment span cannot do: several target columns, ``init``,
    and (``"grouped"``, ``"newton"``) a history or more module directions than ``input_dim``."""
    if variant not in ("grouped", "newton", "spectral"):
        return
    if y.ndim != 1:
        raise ValueError(f"variant '{variant}' needs a single target column y of shape (n,)")
    if init is not None:
        raise ValueError(f"variant '{variant}' makes its own starting projections: pass init=None")
    if variant == "spectral":
        return
    if return_history:
        raise ValueError(f"variant '{variant}' has no step-by-step history: pass return_history=False")
    core.check_geometry(n_modules, module_dim, input_dim, what=f"variant '{variant}'")


def _search(
    Xt,
    target,
    module_dim,
    kernel,
    module,
    steps,
    lr,
    batch_size,
    ridge,
    gen,
    history,
    init=None,
    normalise=False,
    low_rank=False,
    patience=0,
):
    """Minimise the kernel objective over one orthonormal U, from ``init`` or a random start; returns U (m, b).

    ``patience > 0`` stops early once the objective's running mean (over about ``patience`` minibatches)
    has not fallen by 0.1 % for ``patience`` steps."""
    m = Xt.shape[1]
    A = (torch.randn(m, module_dim, generator=gen) if init is None else init.clone()).requires_grad_(True)
    opt = torch.optim.Adam([A], lr=lr)
    n = Xt.shape[0]
    fast = low_rank and kernel == "features"
    mean, best, since = None, float("inf"), 0
    size = float(A.detach().norm())
    for step in range(int(steps)):
        idx = torch.randperm(n, generator=gen)[: min(batch_size, n)]
        U = orthonormalise(A)
        if fast:
            loss = _features_objective_low_rank(U, Xt[idx], target[idx], module, ridge, normalise)
        else:
            loss = kernel_objective(U, Xt[idx], target[idx], kernel, ridge, module, normalise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % _CHECK_EVERY == 0 or step == int(steps) - 1:
            _check_search(A, size, loss, lr)
        if history is not None:
            with torch.no_grad():
                history.append(orthonormalise(A))
        if patience:
            value = float(loss.detach())
            mean = value if mean is None else mean + (value - mean) / patience
            best, since = (mean, 0) if mean < best - 1e-3 * abs(best) else (best, since + 1)
            if since >= patience:
                break
    return orthonormalise(A).detach()


_CHECK_EVERY = 10  # steps between checks of a search for divergence
_MAX_GROWTH = 1e4  # growth of the search's parameters beyond which float32 steps are lost in rounding


class RuleDivergedError(FloatingPointError):
    """A search of the rule diverged (non-finite objective or parameters, or parameters grown so large that
    float32 steps no longer change them): lower ``lr``."""


def _check_search(A, size: float, loss, lr: float) -> None:
    """Raise :class:`RuleDivergedError` when the search's parameters ``A`` or its ``loss`` are not finite, or
    when ``A`` has grown ``_MAX_GROWTH`` times its starting norm ``size``.

    The objective depends on ``A`` only through its orthonormal factor, so its gradient is orthogonal to
    ``A`` and every Adam step (about ``lr`` per entry) lengthens ``A``. At a sane step size the norm grows
    slowly (measured on the sine-wave task, m = 8, 300 steps: 1.5 times at the default lr = 0.05, 13 times at
    lr = 1, 83 at lr = 10, each still finding the modules); a step size far above the entries' scale
    makes it grow by that step at once, and then float32 rounding of ``A + step`` drops the search's later
    steps, so it wanders instead of descending. A check every ``_CHECK_EVERY`` steps costs a few microseconds.
    """
    with torch.no_grad():
        norm = float(A.norm())
    if not (math.isfinite(norm) and bool(torch.isfinite(loss.detach()))):
        raise RuleDivergedError(
            f"the rule's search diverged (non-finite objective or projection) with lr={lr:g}; lower lr"
        )
    if norm > _MAX_GROWTH * max(size, 1e-12):
        raise RuleDivergedError(
            f"the rule's search diverged: its projection parameters grew {norm / size:.3g} "
            f"times (more than {_MAX_GROWTH:g}) with lr={lr:g}, so float32 steps no longer "
            "change them; lower lr (the default is 0.05)"
        )


@core.validated(
    variant=core.Choice(VARIANTS + (AUTO,)),
    n_modules=core.Whole(1),
    module_dim=core.Whole(1),
    input_dim=core.Whole(1),
    target_columns=core.Whole(1),
)
def resolve_variant(variant: str, n_modules: int, module_dim: int, input_dim: int, target_columns: int = 1) -> str:
    """``variant`` (one of ``VARIANTS`` or ``"auto"``), or for ``"auto"``: ``"newton"`` if ``target_columns == 1``
    and ``n_modules * module_dim <= input_dim``, else ``"backfit"``. Every count is a whole number >= 1."""
    if variant != AUTO:
        return variant
    return "newton" if target_columns == 1 and n_modules * module_dim <= input_dim else "backfit"


@single_threaded
@core.validated(
    X=core.Check(_inputs),
    y=core.Check(_targets),
    n_modules=core.Count(1),
    module_dim=core.Whole(1, high=lambda a: a["X"].shape[1]),
    variant=core.Check(_variant),
    kernel=core.Choice(KERNELS),
    steps=core.Whole(1, high=10**6),
    batch_size=core.Whole(1),
    width=core.Whole(1),
    depth=core.Whole(1, high=100),
    refine_passes=core.Whole(0, high=1000),
    lr=core.Real(0.0, low_open=True),
    ridge=core.Real(0.0, low_open=True),
    normalise_kernel=core.Boolean(),
    return_history=core.Boolean(),
    low_rank_gradient=core.Boolean(),
    patience=core.Whole(0, high=10**6),
    stages=core.Check(_list_or_none),
    seed=core.Seed(),
)
def find_module_projections(
    X,
    y,
    n_modules: int,
    module_dim: int = 1,
    *,
    variant: str = DEFAULTS["variant"],
    kernel: str = DEFAULTS["kernel"],
    steps: int = DEFAULTS["steps"],
    lr: float = DEFAULTS["lr"],
    batch_size: int = DEFAULTS["batch_size"],
    ridge: float = DEFAULTS["ridge"],
    width: int = DEFAULTS["width"],
    depth: int = DEFAULTS["depth"],
    refine_passes: int = DEFAULTS["refine_passes"],
    init=None,
    normalise_kernel: bool = False,
    seed: int = 0,
    return_history: bool = False,
    low_rank_gradient: bool = False,
    patience: int = 0,
    stages: list | None = None,
):
    """Find ``n_modules`` input projections of dimension ``module_dim`` for a modular network.

    Explained in the chapter :doc:`/book/finding_modules`.

    Parameters
    ----------
    X : (n, m) inputs. y : (n,) targets, or (n, d) for several outputs (e.g. one-hot classes); centred
        internally. The objective sums over the columns.
    n_modules, module_dim : ``K`` and ``b`` (``1 <= b <= m``).
    variant : ``"paper"`` (Algorithm 1, independent random starts), ``"deflation"`` (search, fit, subtract,
        search again), ``"backfit"`` (deflation, then ``refine_passes`` rounds re-searching each module on
        what the others leave) or ``"spectral"`` (the backfit search inside the modules' span estimated from
        the target's moments, :func:`moment_span`), ``"grouped"`` (the moment span split into modules by
        joint block diagonalisation of a fitted model's Hessians, then a joint additive refit,
        :func:`modscale_lib.rule.group_directions`; ``y`` (n,), ``K*b <= m``, no ``init``, no history)
        ``"newton"`` (the moment span refined and grouped by closed-form Gauss-Newton steps and Hessians,
        :func:`modscale_lib.rule.newton_projections`; ``y`` (n,), ``K*b <= m``, no ``init``, no history)
        or ``"auto"`` (the default: ``"newton"`` for one target column and ``K*b <= m``, else ``"backfit"``;
        :func:`resolve_variant`).
        At ``b = 1`` (chapter "Finding the modules", ``n = 4000``) independent starts collapse onto one
        module, deflation recovers each module unless its first search settles between two, and backfitting
        repairs that; with few samples and large ``m`` ``"spectral"`` needs fewer. At ``b >= 2`` (chapter
        "Modules of more than one dimension") the searches pair directions of different modules; ``"grouped"``
        does not, at a cost linear in ``n``, and ``"newton"`` does not either, in about a second.
    kernel : ``"features"`` (the module's random-feature kernel at initialisation, the default), ``"ntk"``
        (its empirical neural tangent kernel) or ``"rbf"`` (median-heuristic bandwidth).
    steps, lr, batch_size : Adam steps per module, step size, points per minibatch.
    ridge : the ridge added to the kernel matrix (> 0). width, depth : of the module network whose kernel is
        used. refine_passes : backfitting rounds (``"backfit"`` only).
    init : optional starting projections (n_modules, m, module_dim) for the first searches, instead of random
        starts (``"spectral"`` passes the projections it found inside the span, and accepts no ``init``).
    normalise_kernel : divide each kernel matrix by its mean diagonal (see :func:`kernel_objective`); use it
        when the inputs are not white.
    seed : seeds the starts, the minibatches and the module networks.
    return_history : also return each module's projection after every step, (K, total steps, m, b).
    low_rank_gradient : (opt-in) for the ``features`` kernel, take the objective's gradient through
        ``phi^T alpha`` rather than the (B, B) kernel matrix: the same value and gradient up to float rounding,
        about twice as fast; ignored for the other kernels.
    patience : (opt-in, 0 = off) stop a search once the running mean of its minibatch objective has not
        fallen by 0.1 % for ``patience`` steps; ``steps`` is then a maximum.
    stages : (opt-in) a list to which ``"deflation"`` and ``"backfit"`` append the projections after the
        deflation pass and after each backfitting round, (K, m, b) each: the deflation variant's result comes
        with the backfit variant's, at no extra cost, and equal to it bit for bit.

    Returns
    -------
    ``projections``: float array (n_modules, m, module_dim), orthonormal columns; with ``return_history``,
    ``(projections, history)``.

    Determinism: the result is a function of the arguments alone, bit for bit (tolerance 0), whatever the
    number of torch threads: the search runs on one thread (:func:`modscale_lib.core.single_thread`), and the
    caller's thread count is restored after. (Multi-threaded float32 reductions differed by up to 7.7e-4 between 1 and 2
    threads; on two cores one thread was no slower, as the kernels are small.)
    """
    _check_costs(X, n_modules, module_dim, steps, batch_size, width, refine_passes, return_history)
    if init is not None:
        init = core.array(init, "init", shape=(n_modules, X.shape[1], module_dim))
    _check_variant_needs(variant, y, init, return_history, n_modules, module_dim, X.shape[1])
    if variant == "grouped":
        from ._grouping import group_directions  # grouping never imports this module

        return group_directions(X, y, moment_span(X, y, n_modules * module_dim), n_modules, module_dim, seed=seed)
    if variant == "newton":
        from ._newton import newton_projections  # newton imports this module only inside a function

        return newton_projections(X, y, n_modules, module_dim, seed=seed)
    settings = dict(
        kernel=kernel,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        ridge=ridge,
        width=width,
        depth=depth,
        normalise_kernel=normalise_kernel,
        seed=seed,
        return_history=return_history,
        low_rank_gradient=low_rank_gradient,
        patience=patience,
    )
    if variant == "spectral":
        return _spectral(X, y, n_modules, module_dim, refine_passes, settings)
    return _search_modules(X, y, n_modules, module_dim, variant, refine_passes, init, stages, **settings)


def _spectral(X, y, n_modules: int, module_dim: int, refine_passes: int, settings: dict):
    """Variant ``"spectral"``: the backfit search inside the moment span, lifted back to ``R^m`` and refined
    there (``settings``: :func:`find_module_projections`'s other arguments)."""
    # Coarse: the backfit search inside the moment span. Fine: deflation and one backfitting round in R^m
    # from there, which correct the span's own estimation error (large when n is small) without letting a
    # module settle on a mixture (what a deflation pass alone sometimes does at large n).
    basis = moment_span(X, y, min(n_modules * module_dim, X.shape[1]))
    inner = find_module_projections(
        X @ basis, y, n_modules, module_dim, variant="backfit", refine_passes=refine_passes, **settings
    )
    start = basis @ (inner[0] if settings["return_history"] else inner)
    outer = find_module_projections(
        X, y, n_modules, module_dim, variant="backfit", init=start, refine_passes=1, **settings
    )
    if settings["return_history"]:
        return outer[0], np.concatenate([basis @ inner[1], outer[1]], axis=1)
    return outer


def _search_modules(
    X,
    y,
    n_modules: int,
    module_dim: int,
    variant: str,
    refine_passes: int,
    init,
    stages,
    *,
    kernel,
    steps,
    lr,
    batch_size,
    ridge,
    width,
    depth,
    normalise_kernel,
    seed,
    return_history,
    low_rank_gradient,
    patience,
):
    """Variants ``"paper"``, ``"deflation"`` and ``"backfit"`` (arguments as :func:`find_module_projections`'s,
    checked): the projections (K, m, b), and with ``return_history`` each module's after every step."""
    Xt = torch.as_tensor(X, dtype=torch.float32)
    target = torch.as_tensor(y - y.mean(axis=0), dtype=torch.float32)
    gen = torch_generator(seed, 31337)
    modules = [ModuleAtInit(module_dim, width, depth, seed=seed * 101 + k) for k in range(n_modules)]
    settings = dict(
        module_dim=module_dim,
        kernel=kernel,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        ridge=ridge,
        gen=gen,
        normalise=normalise_kernel,
        low_rank=low_rank_gradient,
        patience=patience,
    )

    def search(k: int, goal, start, history):
        return _search(Xt, goal, module=modules[k], history=history, init=start, **settings)

    def fit(k: int, goal, U):
        return _module_fit(Xt, goal, U, kernel, modules[k], ridge, 4 * batch_size, gen, normalise_kernel)

    found, fits, histories = [], [], []
    residual = target
    for k in range(n_modules):
        # independent starts on the target ("paper"), or deflation: search, fit, subtract, search again
        histories.append([] if return_history else None)
        start = None if init is None else torch.as_tensor(init[k], dtype=torch.float32)
        found.append(search(k, target if variant == "paper" else residual, start, histories[k]))
        if variant != "paper":
            fits.append(fit(k, residual, found[k]))
            residual = residual - fits[-1]
    if stages is not None and variant != "paper":
        stages.append(_stacked(found))
    for _ in range(refine_passes if variant == "backfit" else 0):
        # Backfitting: re-search each module on what the others leave, starting where it is.
        for k in range(n_modules):
            others = target - (sum(fits) - fits[k])
            found[k] = search(k, others, found[k], histories[k])
            fits[k] = fit(k, others, found[k])
        if stages is not None:
            stages.append(_stacked(found))
    if return_history:
        return _stacked(found), _padded_history(histories)
    return _stacked(found)


def _stacked(found: list) -> np.ndarray:
    """The projections found, (K, m, b) float64."""
    return torch.stack(found).numpy().astype(np.float64)


def _padded_history(histories: list) -> np.ndarray:
    """Each module's projection after every step of its searches, (K, T, m, b); a module whose searches
    stopped early (``patience``) stays where it stopped."""
    length = max(len(h) for h in histories)
    padded = [h + [h[-1]] * (length - len(h)) for h in histories]
    return torch.stack([torch.stack(h) for h in padded]).numpy()


def _module_fit(Xt, target, U, kernel, module, ridge, max_points, gen, normalise=False):
    """The found module's kernel ridge regression fit of ``target``, at every point, (n,) or (n, d).

    The fit uses a ridge of at least 0.1 (the kernels have unit scale), so that it smooths rather than
    interpolates: an interpolating fit would also remove the other modules' signal at the training points.
    For large ``n`` it is made on a random subset of ``max_points`` and extended to every point through the
    kernel between all points and the subset.
    """
    n = Xt.shape[0]
    fit_ridge = max(ridge, 0.1)
    with torch.no_grad():
        z = Xt @ U
        idx = torch.randperm(n, generator=gen)[: min(n, max_points)]
        zs = z[idx]
        K = kernel_matrix(kernel, zs, module)
        normaliser = float(K.diagonal().mean().clamp_min(1e-12)) if normalise else 1.0
        K = K / normaliser
        L, info = torch.linalg.cholesky_ex(K + fit_ridge * torch.eye(K.shape[0], dtype=K.dtype))
        if int(info) != 0:
            raise KernelNotPositiveDefiniteError(f"kernel ridge fit failed (ridge {fit_ridge:g}); increase ridge")
        Y = target[idx]
        coef = torch.cholesky_solve(Y[:, None] if Y.dim() == 1 else Y, L)
        fit = cross_kernel(kernel, z, zs, module) @ coef / normaliser
        return fit[:, 0] if target.dim() == 1 else fit
