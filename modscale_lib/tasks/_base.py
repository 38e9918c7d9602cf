"""The sine-wave regression task: a sum of modules, each a sum of sine waves of a low-dimensional projection.

``y(x) = K^(-1/2) * sum_j g_j(U_j^T x) + noise * eps``, with ``x ~ N(0, I_m)`` and
``g_j(z) = sum_l a_l sin(omega_jl^T z + phi_jl)``, centred and scaled to unit variance exactly (their mean and
variance under Gaussian inputs have closed forms). When the modules' projections are mutually orthogonal
(``K * b <= m``) the modules are independent and ``Var(y) = 1 + noise^2`` exactly. When ``K * b > m`` the
projections cannot all be orthogonal, the modules are correlated, and ``Var(y)`` differs from
``1 + noise^2`` (by the modules' covariances, which depend on the draw): normalise by the measured variance
there.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import core

__all__ = ["ModularTask", "SineWaveTask", "DEFAULT_FREQUENCIES", "DEFAULT_AMPLITUDES"]

DEFAULT_FREQUENCIES = (1.0, 3.0, 5.0)  # the magnitudes |omega_l| of the authors' illustration
DEFAULT_AMPLITUDES = (1.0, 0.5, 0.2)


def _orthonormal_projections(rng: np.random.Generator, input_dim: int, n_modules: int, module_dim: int) -> np.ndarray:
    """``(K, m, b)`` projections with orthonormal columns; mutually orthogonal across modules when ``K*b <= m``."""
    if n_modules * module_dim <= input_dim:
        q, _ = np.linalg.qr(rng.standard_normal((input_dim, n_modules * module_dim)))
        return q.T.reshape(n_modules, module_dim, input_dim).transpose(0, 2, 1).copy()
    blocks = [np.linalg.qr(rng.standard_normal((input_dim, module_dim)))[0] for _ in range(n_modules)]
    return np.stack(blocks)


class ModularTask:
    """What every modular task shares: ``K`` modules of dimension ``b`` on ``m``-dimensional Gaussian inputs,
    each module standardised exactly, ``y = K^(-1/2) sum_j g_j(U_j^T x) + noise * eps``.

    Each module has mean 0 and variance 1 exactly, whatever ``K``, ``b`` and ``m``. The target's variance is
    exact only when ``K * b <= m``: the projections are then mutually orthogonal, the modules independent, and
    ``Var(y) = 1 + noise^2``. When ``K * b > m`` it is not: the projections overlap, the modules are correlated
    and ``Var(y)`` depends on the draw (from about 0.3 to 1.4 over five draws of ``m = 2``, ``K = 5``, ``b = 1``
    for the sine-wave task); divide losses by the measured variance of the labels there.

    A subclass sets ``input_dim``, ``n_modules``, ``module_dim``, ``noise``, ``seed``, ``projections``
    (K, m, b) and the raw modules' exact ``_mean`` and ``_std`` (K,), and defines ``_raw(z)`` (raw module
    outputs (n, K) from projected inputs ``z`` (n, K, b)) and ``_stream(seed, part)`` (the random stream of a
    draw: part 0 for training samples, 1 for out-of-distribution ones).
    """

    input_dim: int
    n_modules: int
    module_dim: int
    noise: float
    seed: int
    projections: np.ndarray

    def _raw(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _stream(self, seed: int, part: int) -> np.random.Generator:
        raise NotImplementedError

    @property
    def module_means(self) -> np.ndarray:
        """Exact mean of each raw module ``g_j`` under the training distribution, (n_modules,)."""
        return self._mean.copy()

    @property
    def module_stds(self) -> np.ndarray:
        """Exact standard deviation of each raw module ``g_j``, (n_modules,)."""
        return self._std.copy()

    def module_outputs(self, X) -> np.ndarray:
        """The ``K`` modules' outputs, each with mean 0 and variance 1 under the training distribution.

        X : array (n, input_dim). Returns float32 array (n, n_modules).
        """
        X = core.array(X, "X", shape=(None, self.input_dim))
        z = np.einsum("nm,kmb->nkb", X, self.projections)  # (n, K, b)
        return ((self._raw(z) - self._mean) / self._std).astype(np.float32)

    def target(self, X) -> np.ndarray:
        """The noiseless target ``K^(-1/2) sum_j g_j(U_j^T x)``, float32 array (n,)."""
        return (self.module_outputs(X).sum(axis=1) / np.sqrt(self.n_modules)).astype(np.float32)

    def _labelled(self, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = self.target(X) + self.noise * rng.standard_normal(X.shape[0])
        return X.astype(np.float32), y.astype(np.float32)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` training-distribution samples: ``X`` (n, input_dim) ~ N(0, I) and ``y`` (n,), float32."""
        n = core.whole(n, "n", low=1)
        core.check_size(n * self.input_dim, "n * input_dim")
        rng = self._stream(core.seed(seed), 0)  # distinct from the task's own stream
        return self._labelled(rng.standard_normal((n, self.input_dim)), rng)

    def sample_ood(
        self, n: int, seed: int, input_std: float = 2.0, *, scale: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` out-of-distribution samples: inputs ``x ~ N(0, input_std^2 I)``, a wider input range.

        Along each module's projection the inputs then reach ``input_std`` times further than in training,
        where a network has seen few or no points; the target function is unchanged. (``scale`` is the old,
        deprecated name of ``input_std``.)
        """
        if scale is not None:
            warnings.warn("sample_ood(scale=...) is deprecated: use input_std", DeprecationWarning, stacklevel=2)
            input_std = scale
        input_std = core.real(input_std, "input_std", low=0, high=1e6, low_open=True)
        n = core.whole(n, "n", low=1)
        core.check_size(n * self.input_dim, "n * input_dim")
        rng = self._stream(core.seed(seed), 1)
        return self._labelled(input_std * rng.standard_normal((n, self.input_dim)), rng)


class SineWaveTask(ModularTask):
    """A modular regression task with ``K`` modules of dimension ``b`` on ``m``-dimensional Gaussian inputs.

    Explained in the chapter :doc:`/book/sine_wave_task`.

    Module ``j`` reads ``z = U_j^T x`` (``b`` numbers) and outputs ``sum_l a_l sin(omega_jl^T z + phi_jl)`` with
    ``L = n_components`` components: frequency magnitudes ``|omega_jl|`` = 1, 3, 5, amplitudes ``a_l`` = 1,
    0.5, 0.2, directions uniform on the sphere of ``R^b`` and phases uniform on ``[0, 2 pi)``, all drawn from
    ``seed``. Each module is centred and scaled to unit variance (exactly, under ``z ~ N(0, I_b)``), and the
    modules are summed with weight ``K^(-1/2)``. When ``K*b <= m`` the projections of different modules are
    mutually orthogonal, so the modules are independent and ``Var(y) = 1 + noise^2`` exactly. When ``K*b > m``
    each module's projection is drawn on its own, the modules are correlated and ``Var(y)`` is *not*
    ``1 + noise^2`` (it depends on the draw; see :class:`ModularTask`): normalise by the measured variance.

    Parameters
    ----------
    input_dim : ``m``, the input dimension (>= 1).
    n_modules : ``K`` (>= 1).
    module_dim : ``b`` (1 <= b <= m).
    n_components : ``L``, sine waves per module (1..len(frequencies)).
    noise : standard deviation of Gaussian label noise (>= 0).
    seed : draws the projections, frequencies and phases (not the samples).
    frequencies, amplitudes : the magnitudes and amplitudes of the components (defaults 1, 3, 5 and 1, 0.5, 0.2).
    """

    def __init__(
        self,
        input_dim: int,
        n_modules: int,
        module_dim: int = 1,
        n_components: int = 3,
        noise: float = 0.0,
        seed: int = 0,
        frequencies=DEFAULT_FREQUENCIES,
        amplitudes=DEFAULT_AMPLITUDES,
    ):
        input_dim = core.whole(input_dim, "input_dim", low=1)
        n_modules = core.whole(n_modules, "n_modules", low=1)
        module_dim = core.whole(module_dim, "module_dim", low=1, high=input_dim)
        frequencies = core.real_array(frequencies, "frequencies", low=0.0, ndim=1, min_size=1)
        amplitudes = core.real_array(amplitudes, "amplitudes", ndim=1, min_size=1)
        if len(frequencies) != len(amplitudes):
            raise ValueError(
                f"frequencies and amplitudes must have the same length, got {len(frequencies)} and {len(amplitudes)}"
            )
        n_components = core.whole(n_components, "n_components", low=1, high=len(frequencies))
        core.check_size(n_modules * input_dim * module_dim, "n_modules * input_dim * module_dim")
        core.check_size(n_modules * n_components**2 * module_dim, "n_modules * n_components**2 * module_dim")
        if n_modules * module_dim > input_dim:  # one QR per module, in a Python loop
            core.check_count(n_modules, "n_modules")
        self.input_dim, self.n_modules, self.module_dim = input_dim, n_modules, module_dim
        self.n_components = n_components
        self.noise = core.real(noise, "noise", low=0.0, high=1e6)
        self.seed = core.seed(seed)
        rng = np.random.default_rng(self.seed)
        K, b, L = self.n_modules, self.module_dim, self.n_components
        self.projections = _orthonormal_projections(rng, self.input_dim, K, b)  # (K, m, b)
        directions = rng.standard_normal((K, L, b))
        directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
        self.omegas = directions * np.asarray(frequencies[:L], dtype=float)[None, :, None]  # (K, L, b)
        self.phases = rng.uniform(0.0, 2 * np.pi, size=(K, L))  # (K, L)
        self.amplitudes = np.asarray(amplitudes[:L], dtype=float)  # (L,)
        self._mean, self._std = self._moments()
        if not np.all(self._std > 1e-6 * float(np.abs(self.amplitudes).max())):
            raise ValueError(
                "amplitudes and frequencies must give every module a non-zero variance (a module whose "
                f"components all have zero amplitude or zero frequency is constant); got amplitudes "
                f"{self.amplitudes.tolist()} and frequencies {frequencies[:n_components].tolist()}"
            )

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact mean and standard deviation of each raw module under ``z ~ N(0, I_b)``.

        ``E sin(w^T z + p) = exp(-|w|^2/2) sin p`` and
        ``E sin(A) sin(B) = (exp(-|w_A - w_B|^2/2) cos(p_A - p_B) - exp(-|w_A + w_B|^2/2) cos(p_A + p_B)) / 2``.
        """
        w, p, a = self.omegas, self.phases, self.amplitudes
        mean_l = np.exp(-0.5 * np.sum(w**2, -1)) * np.sin(p)  # (K, L)
        diff = np.sum((w[:, :, None] - w[:, None, :]) ** 2, -1)
        summ = np.sum((w[:, :, None] + w[:, None, :]) ** 2, -1)
        second = 0.5 * (
            np.exp(-0.5 * diff) * np.cos(p[:, :, None] - p[:, None, :])
            - np.exp(-0.5 * summ) * np.cos(p[:, :, None] + p[:, None, :])
        )  # (K, L, L)
        cov = second - mean_l[:, :, None] * mean_l[:, None, :]
        var = np.einsum("l,klj,j->k", a, cov, a)
        return mean_l @ a, np.sqrt(var)

    # -- sampling ----------------------------------------------------------------------------------------
    def _raw(self, z: np.ndarray) -> np.ndarray:
        """Raw module outputs ``sum_l a_l sin(omega_jl^T z_j + phi_jl)``, (n, K), from ``z`` (n, K, b)."""
        core.check_size(z.shape[0] * self.n_modules * self.n_components * self.module_dim, "the rows of X")
        waves = np.sin(np.einsum("nkb,klb->nkl", z, self.omegas) + self.phases)  # (n, K, L)
        return waves @ self.amplitudes  # (n, K)

    def _stream(self, seed: int, part: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, seed] if part == 0 else [self.seed, seed, part])

    def module_components(self, t, module: int = 0) -> np.ndarray:
        """The raw sine components ``a_l sin(omega_l t + phi_l)`` of one module along its projection (b = 1).

        t : array of positions ``u^T x``. Returns (n_components, len(t)); their sum, centred and scaled, is
        the module's output.
        """
        if self.module_dim != 1:
            raise ValueError(f"module_components needs module_dim = 1, got {self.module_dim}")
        module = core.whole(module, "module", low=0, high=self.n_modules - 1)
        t = core.array(t, "t", ndim=1)
        core.check_size(t.size * self.n_components, "t")
        w = self.omegas[module, :, 0]
        return self.amplitudes[:, None] * np.sin(w[:, None] * t[None, :] + self.phases[module][:, None])

    def standardise(self, raw, module: int = 0) -> np.ndarray:
        """Centre and scale a raw module output as :meth:`ModularTask.module_outputs` does."""
        module = core.whole(module, "module", low=0, high=self.n_modules - 1)
        return (core.array(raw, "raw") - self._mean[module]) / self._std[module]

    def __repr__(self) -> str:
        return (
            f"SineWaveTask(input_dim={self.input_dim}, n_modules={self.n_modules}, "
            f"module_dim={self.module_dim}, n_components={self.n_components}, noise={self.noise:g}, "
            f"seed={self.seed})"
        )
