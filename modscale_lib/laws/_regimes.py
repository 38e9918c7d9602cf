"""What each regime of the theory predicts for ``n*(m)`` on the book's tasks, as data (the derivations are in the
notes ``notes/law_theory.md``): the Hermite content of a task's modules (information exponent, leap, effective
degree at a target) and a table of predicted exponents of ``m``, each with the citation it rests on.

A module ``g`` of ``b`` standard Gaussian inputs is expanded in normalised Hermite polynomials ``h_j =
He_j / sqrt(j!)``: ``g(z) = sum_a c_a prod_i h_{a_i}(z_i)`` with ``c_a = E[g(z) prod_i h_{a_i}(z_i)]``, computed by
Gauss-Hermite quadrature on a tensor grid. The energy at total degree ``j`` is the sum of ``c_a^2`` over ``|a| =
j``; the energies over ``j >= 1`` add up to ``Var g``. Numpy only (the task classes are numpy too).
"""

from __future__ import annotations

import math

import numpy as np

from .. import core

__all__ = [
    "REGIMES",
    "hermite_coefficients",
    "degree_energies",
    "information_exponent",
    "effective_degree",
    "leap",
    "monomial_exponent",
    "task_module",
    "predictions",
]

#: The regimes of :func:`~modscale_lib.laws.predictions`, with the bibliography key each rests on.
REGIMES = {
    "linear random features, the paper's spectrum": "boopathy2025breaking",
    "kernels and random features": "ghorbani2021linearized",
    "online gradient training": "benarous2021online",
    "learned projections": "damian2024computational",
    "frozen oracle": "",
}


def _normalised_hermite(x: np.ndarray, max_degree: int) -> np.ndarray:
    """``h_j(x) = He_j(x)/sqrt(j!)`` for ``j = 0..max_degree``, (max_degree+1, *x.shape), by the stable
    recurrence ``h_{j+1} = (x h_j - sqrt(j) h_{j-1}) / sqrt(j+1)``."""
    out = np.empty((max_degree + 1,) + x.shape)
    out[0] = 1.0
    if max_degree >= 1:
        out[1] = x
    for j in range(1, max_degree):
        out[j + 1] = (x * out[j] - math.sqrt(j) * out[j - 1]) / math.sqrt(j + 1)
    return out


def hermite_coefficients(
    module, module_dim: int = 1, *, max_degree: int = 30, n_nodes: int = 120, basis=None
) -> np.ndarray:
    """The normalised Hermite coefficients ``c_a`` of ``module`` up to degree ``max_degree`` in each coordinate.

    module : a callable taking ``z`` (n, b) and returning (n,) values. module_dim : ``b``, 1 or 2.
    basis : (b, b) orthonormal columns, the coordinates to expand in (default the identity). ``n_nodes``
    Gauss-Hermite nodes per coordinate (exact for polynomials of degree below ``2 n_nodes``; a frequency
    ``omega`` needs about ``omega^2 + max_degree`` nodes). Returns ``c`` of shape ``(max_degree+1,) * b``.
    """
    b = core.whole(module_dim, "module_dim", low=1, high=2)
    max_degree = core.whole(max_degree, "max_degree", low=1, high=60)
    n_nodes = core.whole(n_nodes, "n_nodes", low=max_degree + 1, high=400)
    if not callable(module):
        raise TypeError(f"module must be a callable z (n, b) -> (n,), got {type(module).__name__}")
    B = np.eye(b) if basis is None else core.array(basis, "basis", shape=(b, b))
    if not np.allclose(B.T @ B, np.eye(b), atol=1e-8):
        raise ValueError("basis must have orthonormal columns")
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / math.sqrt(2 * math.pi)  # E over N(0, 1)
    grids = np.meshgrid(*([x] * b), indexing="ij")
    coords = np.stack([g.ravel() for g in grids], axis=1)  # (n^b, b) coordinates in the basis
    values = np.asarray(module(coords @ B.T), dtype=float)
    if values.size != n_nodes**b or not np.all(np.isfinite(values)):
        raise ValueError("module must return one finite value per row of z")
    values = values.reshape((n_nodes,) * b)
    h = _normalised_hermite(x, max_degree) * w  # (D+1, n) weighted
    return np.einsum("an,n->a", h, values) if b == 1 else np.einsum("an,bk,nk->ab", h, h, values)


def degree_energies(coefficients) -> np.ndarray:
    """Energy per total degree ``j``, ``sum_{|a| = j} c_a^2``, from :func:`~modscale_lib.laws.hermite_coefficients`:
    (D+1,)."""
    c = core.array(coefficients, "coefficients", ndim=(1, 2))
    if c.ndim == 1:
        return c**2
    D = c.shape[0] - 1
    total = np.add.outer(np.arange(c.shape[0]), np.arange(c.shape[1]))
    return np.array([np.sum(c[total == j] ** 2) for j in range(D + 1)])


@core.validated(rtol=core.Real(0.0, 1.0, low_open=True, high_open=True))
def information_exponent(energies, *, rtol: float = 1e-6) -> int:
    """The lowest degree ``j >= 1`` whose energy exceeds ``rtol`` times the variance (Ben Arous, Gheissari and
    Jagannath 2021);
    ``energies`` (D+1,) from :func:`~modscale_lib.laws.degree_energies`."""
    e = core.real_array(energies, "energies", low=0.0, ndim=1, min_size=2)
    var = e[1:].sum()
    if var <= 0:
        raise ValueError("energies describe a constant module (no energy above degree 0)")
    return int(np.flatnonzero(e[1:] > rtol * var)[0] + 1)


def effective_degree(energies, target: float) -> int:
    """The smallest degree ``l`` whose tail ``sum_{j > l}`` energy is at most ``target`` times the variance: the
    degree a method must learn to reach a test loss of ``target * Var``. Raises if the expansion's degree is
    too low to tell."""
    e = core.real_array(energies, "energies", low=0.0, ndim=1, min_size=2)
    target = core.real(target, "target", low=0.0, low_open=True, high=1.0, high_open=True)
    var = e[1:].sum()
    tail = var - np.cumsum(e[1:])  # tail[l - 1] = energy above degree l
    ok = np.flatnonzero(tail <= target * var + 1e-15)
    if ok.size == 0 or ok[0] + 1 >= e.size - 1:
        raise ValueError(
            f"the expansion up to degree {e.size - 1} does not reach the target {target}; raise max_degree"
        )
    return int(ok[0] + 1)


def leap(module, module_dim: int = 1, *, rtol: float = 1e-6, **quadrature) -> int:
    """The leap of a module with ``b <= 2`` (Abbe, Boix-Adsera and Misiakiewicz 2023): for ``b = 1`` its information
    exponent. For
    ``b = 2``, when the degree-1 coefficients are nonzero (one direction ``u1`` is found at the first step), the
    leap is ``max(1, j2)``, ``j2`` the lowest degree in the orthogonal coordinate ``u2`` of any term with nonzero
    coefficient; otherwise the lowest degree of a nonzero term (a lower bound of the leap)."""
    b = core.whole(module_dim, "module_dim", low=1, high=2)
    c = hermite_coefficients(module, b, **quadrature)
    e = degree_energies(c)
    k = information_exponent(e, rtol=rtol)
    if b == 1 or k > 1:
        return k
    v = c[1, 0], c[0, 1]
    u1 = np.array(v) / np.hypot(*v)
    basis = np.column_stack([u1, [-u1[1], u1[0]]])
    c = hermite_coefficients(module, 2, basis=basis, **quadrature)
    per_j2 = np.sum(c**2, axis=0)
    return max(1, int(np.flatnonzero(per_j2[1:] > rtol * e[1:].sum())[0] + 1))


def monomial_exponent(input_dims, degree: int) -> float:
    """The log-log slope over ``input_dims`` of the number of monomials of degree ``<= degree`` in ``m`` variables,
    ``C(m + degree, degree)``: what ``n ~ m^degree`` (kernels learning a degree-``l`` target) looks like at finite
    ``m``, where the count grows more slowly than ``m^degree``."""
    m = core.real_array(input_dims, "input_dims", low=1.0, ndim=1, min_size=2)
    if np.ptp(m) == 0:
        raise ValueError(f"input_dims must not be all equal, got {m.tolist()}")
    degree = core.whole(degree, "degree", low=0, high=1000)
    count = [math.lgamma(v + degree + 1) - math.lgamma(v + 1) - math.lgamma(degree + 1) for v in m]
    return float(np.polyfit(np.log(m), count, 1)[0])


def task_module(task, module: int = 0):
    """Module ``module`` of a modular task (:class:`~modscale_lib.tasks.ModularTask`) as a callable ``z (n, b) ->
    (n,)``, standardised as the task uses it: it feeds ``x = U_j z`` through the task's public
    ``module_outputs``."""
    if not all(hasattr(task, k) for k in ("projections", "module_outputs", "n_modules")):
        raise TypeError(f"task must be a modular task (with projections and module_outputs), got {type(task).__name__}")
    module = core.whole(module, "module", low=0, high=task.n_modules - 1)
    U = task.projections[module]  # (m, b)
    return lambda z: task.module_outputs(np.asarray(z, dtype=float) @ U.T)[:, module].astype(float)


def _draws(kind: str, module_dim: int, n_draws: int, max_degree: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Degree energies averaged over the modules of ``n_draws`` task draws (K = 2), with each module's
    information exponent and leap."""
    from ..tasks import make_task

    energies, exps, leaps = [], [], []
    for seed in range(n_draws):
        task = make_task(kind, 2 * module_dim, 2, module_dim, seed=seed)
        for j in range(task.n_modules):
            f = task_module(task, j)
            nodes = 100 if module_dim == 1 else 70
            e = degree_energies(hermite_coefficients(f, module_dim, max_degree=max_degree, n_nodes=nodes))
            energies.append(e)
            exps.append(information_exponent(e, rtol=1e-3))
            leaps.append(leap(f, module_dim, rtol=1e-3, max_degree=min(max_degree, 12), n_nodes=nodes))
    return np.mean(energies, axis=0), exps, leaps


def predictions(target: float = 0.1, input_dims=(4, 8, 16, 32, 64), *, n_draws: int = 8) -> dict:
    """Each regime's prediction for ``n*(m)`` at the loss ``target * Var(y)``, per task family, as table columns.

    Families: ``"sine"`` (the sine-wave task, K = 2, b = 1), ``"He_1"``, ``"He_2"``, ``"He_3"`` (a link
    ``He_k / sqrt(k!)`` on each of K = 1 or 2 directions, b = 1) and ``"nonseparable"`` (the ``bump_ridge``
    task, K = 2, b = 2). The sine and non-separable modules' Hermite content is computed on ``n_draws`` task
    draws (a degree holding less than 0.1 % of a module's variance counts as absent). Regimes
    (``REGIMES``, derivations in the notes):

    * linear random features with the paper's spectrum: exponential, ``n* ~ (e m/alpha) (1/eps)^(m/alpha)``;
    * kernels and random features: ``m^l``, ``l`` the degree the target needs (``k`` for ``He_k``; the
      effective degree at the target otherwise); ``exponent over the range`` is the log-log slope of
      ``C(m + l, l)`` over ``input_dims``, the pre-asymptotic count;
    * online gradient training: ``m^max(1, L - 1)`` up to logs, ``L`` the leap (the information exponent for
      a single direction; Abbe, Boix-Adsera and Misiakiewicz 2023 for several);
    * learned projections (a modular network must find its modules' ``K b``-dimensional subspace): at least
      ``m^1``, the information-theoretic rate, times the link's difficulty;
    * frozen oracle: flat by construction.

    Returns columns ``task``, ``regime``, ``law`` (``"power"``, ``"exponential"`` or ``"flat"``), ``exponent``
    (of ``m``; NaN for an exponential), ``bound`` (``""`` or ``"at least"``), ``exponent over the range``,
    ``basis`` (what sets it: ``"degree 3"``, ``"leap 1"``, ...) and ``citation`` (a bibliography key).
    """
    target = core.real(target, "target", low=0.0, low_open=True, high=1.0, high_open=True)
    m = core.real_array(input_dims, "input_dims", low=1.0, ndim=1, min_size=2)
    n_draws = core.whole(n_draws, "n_draws", low=1, high=200)
    families = {f"He_{k}": (k, k, k) for k in (1, 2, 3)}  # (degree, information exponent, leap)
    for name, kind, b in (("sine", "sine", 1), ("nonseparable", "bump_ridge", 2)):
        energies, exps, leaps = _draws(kind, b, n_draws, 40 if b == 1 else 24)
        families[name] = (effective_degree(energies, target), int(np.median(exps)), int(np.median(leaps)))
    cols = {
        k: [] for k in ("task", "regime", "law", "exponent", "bound", "exponent over the range", "basis", "citation")
    }

    def add(task, regime, law, exponent, bound, over, basis):
        for key, v in zip(cols, (task, regime, law, exponent, bound, over, basis, REGIMES[regime])):
            cols[key].append(v)

    nan = float("nan")
    for task, (degree, k_star, lp) in families.items():
        kind = "degree" if task.startswith("He") else f"effective degree at {target:g} Var(y):"
        add(
            task,
            "linear random features, the paper's spectrum",
            "exponential",
            nan,
            "",
            nan,
            "n* ~ (e m / alpha) (1/eps)^(m/alpha)",
        )
        add(
            task,
            "kernels and random features",
            "power",
            float(degree),
            "",
            monomial_exponent(m, degree),
            f"{kind} {degree}",
        )
        add(
            task,
            "online gradient training",
            "power",
            float(max(1, lp - 1)),
            "",
            float(max(1, lp - 1)),
            f"leap {lp} (information exponent {k_star})",
        )
        add(task, "learned projections", "power", 1.0, "at least", 1.0, "a subspace of R^m")
        add(task, "frozen oracle", "flat", 0.0, "", 0.0, "the same task up to rotation at every m")
    return cols
