"""Modular tasks whose modules of dimension ``b >= 2`` are identifiable: each module is not a sum of ridges.

A sum of ridge functions (the sine-wave task's modules) can be regrouped at will: with ``b >= 2``,
``sum_j sum_l a_l sin(omega_jl^T U_j^T x + phi_jl)`` is as well a sum of ``K`` other groups of ridges, so no
method can tell which directions belong together. :class:`NonSeparableTask` makes each module a genuinely
``b``-dimensional function, so that the grouping of the directions into modules is a property of the task.

``y(x) = K^(-1/2) * sum_j g_j(U_j^T x) + noise * eps``, ``x ~ N(0, I_m)``, with each ``g_j`` centred and
scaled to unit variance *exactly* (closed forms below). The projections of different modules are mutually
orthogonal (``K*b <= m`` is required), so the ``g_j(U_j^T x)`` are independent and ``Var(y) = 1 + noise^2``.

Module families (``module_kind``), with ``z = U_j^T x ~ N(0, I_b)``:

``"bump_ridge"``
    ``g(z) = alpha * exp(-z^T Q z / 2) + beta * sin(omega * w^T z + phi)``: an anisotropic Gaussian bump
    (``Q = O diag(q) O^T``, random orientation ``O``, eigenvalues ``q`` uniform in ``[0.5, 2]``) plus a ridge
    along a random unit ``w`` in the module's plane with frequency ``omega`` and random phase ``phi``. With
    ``E exp(-z^T Q z/2) = det(I+Q)^(-1/2)``, ``E exp(-z^T Q z) = det(I+2Q)^(-1/2)``,
    ``E sin(omega w^T z + phi) = exp(-omega^2/2) sin phi``, ``E sin^2 = (1 - exp(-2 omega^2) cos 2phi)/2`` and
    ``E[exp(-z^T Q z/2) sin(omega w^T z + phi)] = det(I+Q)^(-1/2) exp(-omega^2 w^T (I+Q)^(-1) w / 2) sin phi``
    (a Gaussian integral), the mean and variance of ``g`` are exact. ``alpha`` and ``beta`` give the bump and
    the ridge the shares ``1 - ridge_share`` and ``ridge_share`` of the (pre-correlation) variance.
``"hermite"``
    A random polynomial of degree ``degree`` in rotated coordinates ``u = O^T z``:
    ``g(z) = sum_a c_a prod_i He_{a_i}(u_i)`` over multi-indices ``1 <= |a| <= degree`` (``He`` the
    probabilists' Hermite polynomials). These products are orthogonal under ``N(0, I)`` with
    ``E[prod He_{a_i}(u_i)^2] = prod a_i!``, so ``E g = 0`` and ``Var g = sum_a c_a^2 a!`` exactly. The
    coefficients are Gaussian, then the terms that involve two or more coordinates (the non-separable part)
    are scaled to hold the share ``interaction`` of the variance.

The module also holds :class:`HermiteLinkTask` (kinds ``"he1"`` .. ``"he4"``): modules of one dimension with
the link ``He_k``, whose information exponent and degree are both ``k``, for the scaling-law study
(:doc:`/book/scaling_law`).

Why a class of its own rather than a ``module_kind=`` option of :class:`~modscale_lib.tasks.SineWaveTask`:
the families share none of the sine task's parameters (frequencies, amplitudes, ``n_components``), they add
their own, and the sine task's configuration (and so the keys of its stored results) should not change; the
two classes share the public interface instead (``input_dim``, ``n_modules``, ``module_dim``,
``projections``, ``sample``, ``sample_ood``, ``target``, ``module_outputs``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import core
from ._base import ModularTask, SineWaveTask

__all__ = [
    "NonSeparableTask",
    "HermiteLinkTask",
    "MODULE_KINDS",
    "LINK_KINDS",
    "TASK_KINDS",
    "make_task",
    "check_task_kind",
    "link_degree",
]

MODULE_KINDS = ("bump_ridge", "hermite")
LINK_KINDS = ("he1", "he2", "he3", "he4")  # HermiteLinkTask of degree 1..4: modules of b = 1
# the sine-wave task (modules of b = 1), the non-separable families and the Hermite links
TASK_KINDS = ("sine",) + MODULE_KINDS + LINK_KINDS


def _hermite(k: int, t: np.ndarray) -> np.ndarray:
    """The probabilists' Hermite polynomial ``He_k(t)`` (``He_0 = 1``, ``He_1 = t``, recurrence)."""
    prev, cur = np.ones_like(t), t
    if k == 0:
        return prev
    for j in range(1, k):
        prev, cur = cur, t * cur - j * prev
    return cur


def _random_rotation(rng: np.random.Generator, b: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((b, b)))
    return q * np.sign(np.diag(r))[None, :]


class NonSeparableTask(ModularTask):
    """A modular regression task with ``K`` identifiable modules of dimension ``b`` on Gaussian inputs.

    Parameters
    ----------
    input_dim : ``m`` (>= 1). n_modules : ``K`` (>= 1). module_dim : ``b`` (>= 1); ``K*b <= m`` is required.
    module_kind : ``"bump_ridge"`` or ``"hermite"`` (see the module docstring).
    noise : standard deviation of Gaussian label noise (>= 0).
    seed : draws the projections and every module's random parameters (not the samples).
    ridge_share : ``"bump_ridge"`` only, in ``[0, 1]``: the ridge's share of the module's variance.
    ridge_frequency : ``"bump_ridge"`` only, ``omega > 0``.
    degree : ``"hermite"`` only, the polynomial degree (1..6).
    interaction : ``"hermite"`` only, in ``[0, 1]``: the non-separable terms' share of the variance
        (ignored for ``b = 1``, where there are none).

    Attributes
    ----------
    projections : (K, m, b) float64, orthonormal columns, mutually orthogonal across modules.
    """

    def __init__(
        self,
        input_dim: int,
        n_modules: int,
        module_dim: int = 2,
        *,
        module_kind: str = "bump_ridge",
        noise: float = 0.0,
        seed: int = 0,
        ridge_share: float = 0.5,
        ridge_frequency: float = 1.5,
        degree: int = 3,
        interaction: float = 0.6,
    ):
        self.input_dim = core.whole(input_dim, "input_dim", low=1)
        self.n_modules = core.whole(n_modules, "n_modules", low=1)
        self.module_dim = core.whole(module_dim, "module_dim", low=1)
        core.check_geometry(self.n_modules, self.module_dim, self.input_dim, what="NonSeparableTask")
        self.module_kind = core.choice(module_kind, "module_kind", MODULE_KINDS)
        self.noise = core.real(noise, "noise", low=0.0)
        self.seed = core.seed(seed)
        self.ridge_share = core.real(ridge_share, "ridge_share", low=0.0, high=1.0)
        self.ridge_frequency = core.real(ridge_frequency, "ridge_frequency", low=0.0, low_open=True)
        self.degree = core.whole(degree, "degree", low=1, high=6)
        self.interaction = core.real(interaction, "interaction", low=0.0, high=1.0)
        core.check_size(self.n_modules * self.module_dim * self.input_dim, "n_modules * module_dim * input_dim")
        if self.module_kind == "hermite":  # multi-indices enumerated in a Python loop
            core.check_count(
                (self.degree + 1) ** self.module_dim,
                "module_dim (with degree: (degree + 1) ** module_dim multi-indices)",
            )
        K, b, m = self.n_modules, self.module_dim, self.input_dim
        rng = core.numpy_generator(self.seed, 4242)
        q, _ = np.linalg.qr(rng.standard_normal((m, K * b)))
        self.projections = q.T.reshape(K, b, m).transpose(0, 2, 1).copy()  # (K, m, b)
        self.rotations = np.stack([_random_rotation(rng, b) for _ in range(K)])  # (K, b, b)
        if self.module_kind == "bump_ridge":
            self._init_bump_ridge(rng)
        else:
            self._init_hermite(rng)

    # -- the two families ----------------------------------------------------------------------------------
    def _init_bump_ridge(self, rng: np.random.Generator) -> None:
        K, b, omega = self.n_modules, self.module_dim, self.ridge_frequency
        eig = rng.uniform(0.5, 2.0, size=(K, b))
        self.bump_matrices = np.einsum("kij,kj,klj->kil", self.rotations, eig, self.rotations)  # (K, b, b)
        w = rng.standard_normal((K, b))
        self.ridge_directions = w / np.linalg.norm(w, axis=1, keepdims=True)  # (K, b)
        self.ridge_phases = rng.uniform(0.0, 2 * np.pi, size=K)  # (K,)
        eye = np.eye(b)
        mean_b = np.array([np.linalg.det(eye + Q) ** -0.5 for Q in self.bump_matrices])
        var_b = np.array([np.linalg.det(eye + 2 * Q) ** -0.5 for Q in self.bump_matrices]) - mean_b**2
        phi = self.ridge_phases
        mean_s = math.exp(-(omega**2) / 2) * np.sin(phi)
        var_s = 0.5 * (1 - math.exp(-2 * omega**2) * np.cos(2 * phi)) - mean_s**2
        quad = np.array([w @ np.linalg.solve(eye + Q, w) for Q, w in zip(self.bump_matrices, self.ridge_directions)])
        cov = mean_b * np.exp(-(omega**2) * quad / 2) * np.sin(phi) - mean_b * mean_s
        alpha = math.sqrt(1 - self.ridge_share) / np.sqrt(var_b)
        beta = math.sqrt(self.ridge_share) / np.sqrt(np.maximum(var_s, 1e-300))
        self._weights = np.stack([alpha, beta], axis=1)  # (K, 2)
        self._mean = alpha * mean_b + beta * mean_s
        var = alpha**2 * var_b + beta**2 * var_s + 2 * alpha * beta * cov
        self._std = np.sqrt(var)

    def _init_hermite(self, rng: np.random.Generator) -> None:
        K, b, d = self.n_modules, self.module_dim, self.degree
        self.multi_indices = np.array(
            [a for a in itertools.product(range(d + 1), repeat=b) if 1 <= sum(a) <= d], dtype=int
        )  # (T, b)
        norms = np.array([math.prod(math.factorial(int(k)) for k in a) for a in self.multi_indices], float)
        mixed = np.count_nonzero(self.multi_indices, axis=1) >= 2
        coef = rng.standard_normal((K, len(norms))) / np.sqrt(norms)
        if mixed.any():
            for k in range(K):  # the non-separable terms hold the share `interaction` of the variance
                v_mix = np.sum(coef[k, mixed] ** 2 * norms[mixed])
                v_pure = np.sum(coef[k, ~mixed] ** 2 * norms[~mixed])
                coef[k, mixed] *= math.sqrt(self.interaction / v_mix)
                coef[k, ~mixed] *= math.sqrt((1 - self.interaction) / v_pure)
        self.coefficients = coef  # (K, T)
        self._mean = np.zeros(K)
        self._std = np.sqrt(np.sum(coef**2 * norms, axis=1))

    def _raw(self, z: np.ndarray) -> np.ndarray:
        """Raw module outputs from projected inputs ``z`` (n, K, b); returns (n, K)."""
        if self.module_kind == "bump_ridge":
            bump = np.exp(-0.5 * np.einsum("nki,kij,nkj->nk", z, self.bump_matrices, z))
            ridge = np.sin(self.ridge_frequency * np.einsum("nkb,kb->nk", z, self.ridge_directions) + self.ridge_phases)
            return self._weights[:, 0] * bump + self._weights[:, 1] * ridge
        u = np.einsum("nkb,kbc->nkc", z, self.rotations)  # O^T z
        d = self.degree
        he = np.stack([_hermite(k, u) for k in range(d + 1)])  # (d+1, n, K, b)
        out = np.zeros(z.shape[:2])
        for t, a in enumerate(self.multi_indices):
            term = np.prod([he[a[i], :, :, i] for i in range(self.module_dim)], axis=0)  # (n, K)
            out += self.coefficients[:, t] * term
        return out

    # -- what ModularTask needs ------------------------------------------------------------------------
    def _stream(self, seed: int, part: int) -> np.random.Generator:
        return core.numpy_generator(self.seed, seed, part)

    def target(self, X) -> np.ndarray:
        """The noiseless target ``K^(-1/2) sum_j g_j(U_j^T x)``, float32 array (n,) (summed in float64)."""
        return (self.module_outputs(X).astype(np.float64).sum(axis=1) / math.sqrt(self.n_modules)).astype(np.float32)

    def __repr__(self) -> str:
        return (
            f"NonSeparableTask(input_dim={self.input_dim}, n_modules={self.n_modules}, "
            f"module_dim={self.module_dim}, module_kind={self.module_kind!r}, noise={self.noise:g}, "
            f"seed={self.seed})"
        )


class HermiteLinkTask(ModularTask):
    """``K`` modules of one dimension with the same Hermite link: ``y = sum_j He_k(u_j^T x) / sqrt(K k!)``.

    ``He_k`` is the probabilists' Hermite polynomial of degree ``k``: under ``t ~ N(0, 1)`` it has mean 0
    (``k >= 1``) and variance ``k!`` exactly, and it is orthogonal to every polynomial of lower degree, so its
    *information exponent* (the lowest degree at which the link correlates with a Hermite polynomial) and its
    degree are both ``k``. That makes these the tasks whose sample complexity the literature predicts per
    regime (linear methods, kernels and random features: about ``m^k`` samples; gradient training of the
    first layer: about ``m^max(1, k - 1)``). The directions ``u_j`` are orthonormal (``K <= m``), so the
    modules are independent and ``Var(y) = 1 + noise^2`` exactly at every ``m``.

    Parameters
    ----------
    input_dim : ``m`` (>= K). n_modules : ``K`` (>= 1). degree : ``k`` in 1..4.
    noise : standard deviation of Gaussian label noise (>= 0). seed : draws the directions (not the samples).
    """

    def __init__(self, input_dim: int, n_modules: int, degree: int, *, noise: float = 0.0, seed: int = 0):
        self.input_dim = core.whole(input_dim, "input_dim", low=1)
        self.n_modules = core.whole(n_modules, "n_modules", low=1)
        self.module_dim = 1
        self.degree = core.whole(degree, "degree", low=1, high=len(LINK_KINDS))
        core.check_geometry(self.n_modules, 1, self.input_dim, what="HermiteLinkTask")
        core.check_size(self.n_modules * self.input_dim, "n_modules * input_dim")
        self.noise = core.real(noise, "noise", low=0.0)
        self.seed = core.seed(seed)
        rng = core.numpy_generator(self.seed, 6151)
        q, _ = np.linalg.qr(rng.standard_normal((self.input_dim, self.n_modules)))
        self.projections = q.T[:, :, None].copy()  # (K, m, 1)
        self._mean = np.zeros(self.n_modules)
        self._std = np.full(self.n_modules, math.sqrt(math.factorial(self.degree)))

    def _raw(self, z: np.ndarray) -> np.ndarray:
        return _hermite(self.degree, z[..., 0])  # (n, K)

    def _stream(self, seed: int, part: int) -> np.random.Generator:
        return core.numpy_generator(self.seed, seed, part, 6151)

    def target(self, X) -> np.ndarray:
        """The noiseless target ``sum_j He_k(u_j^T x) / sqrt(K k!)``, float32 array (n,) (summed in float64)."""
        return (self.module_outputs(X).astype(np.float64).sum(axis=1) / math.sqrt(self.n_modules)).astype(np.float32)

    def __repr__(self) -> str:
        return (
            f"HermiteLinkTask(input_dim={self.input_dim}, n_modules={self.n_modules}, degree={self.degree}, "
            f"noise={self.noise:g}, seed={self.seed})"
        )


def link_degree(kind: str) -> int | None:
    """The Hermite degree ``k`` of a link task kind (``"he2"`` -> 2), None for the other kinds."""
    kind = core.choice(kind, "kind", TASK_KINDS)
    return LINK_KINDS.index(kind) + 1 if kind in LINK_KINDS else None


def check_task_kind(kind: str, module_dim: int) -> str:
    """``kind`` checked against ``TASK_KINDS`` and ``module_dim``: the sine-wave task and the Hermite links only
    with ``module_dim = 1`` (sine modules of ``b >= 2`` are sums of ridges, which no method can group; a link
    reads one direction)."""
    kind = core.choice(kind, "kind", TASK_KINDS)
    if kind in ("sine",) + LINK_KINDS and core.whole(module_dim, "module_dim", low=1) != 1:
        raise ValueError(
            f"module_dim must be 1 for kind {kind!r} (sine modules of b >= 2 are sums of ridges, "
            f"which are not identifiable; a Hermite link reads one direction), got {module_dim}; use "
            f"one of {MODULE_KINDS}"
        )
    return kind


def make_task(kind: str, input_dim: int, n_modules: int, module_dim: int = 1, seed: int = 0) -> ModularTask:
    """A noiseless task with ``Var(y) = 1`` exactly, by ``kind`` (one of ``TASK_KINDS``): the sine-wave task
    (:class:`~modscale_lib.tasks.SineWaveTask`, ``module_dim`` must be 1: its modules of ``b >= 2`` are sums of
    ridges that no method can group), a Hermite link (:class:`HermiteLinkTask`, ``"he1"`` .. ``"he4"``,
    ``module_dim`` 1) or :class:`NonSeparableTask` of that module family with defaults."""
    kind = check_task_kind(kind, module_dim)
    if kind == "sine":
        return SineWaveTask(input_dim, n_modules, seed=seed)
    if kind in LINK_KINDS:
        return HermiteLinkTask(input_dim, n_modules, link_degree(kind), seed=seed)
    return NonSeparableTask(input_dim, n_modules, module_dim, module_kind=kind, noise=0.0, seed=seed)
