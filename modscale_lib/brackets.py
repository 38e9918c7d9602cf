"""Samples needed by a bracketing search: train only near where the test loss crosses its target.

The sample counts live on the grid ``n_i = round(2^(i/2))`` (a factor ``sqrt(2)`` apart), named by their index
``i``. A search visits indices one round at a time, for every target of a list: it steps up while the loss is
above the target and down while it is below (to just past the crossing that the two nearest visits predict, or
by one to four indices from a single visit), bisects a gap, and stops for a target when a failing
index sits just below a succeeding one (*bracketed*), when the grid's first index already succeeds (*censored
below*) or when its last index still fails (*censored above*). :func:`crossing` then reads ``n*`` by
interpolating ``log n`` linearly in ``log`` loss between the bracketing pair.

Numpy only: the experiment (``modscale_lib.experiments.scaling_law``) trains, this module decides where.
"""

from __future__ import annotations

import math

import numpy as np

from . import core

__all__ = ["grid_n", "grid_index", "next_index", "crossing", "crossings", "start_index", "CENSORING"]

#: The censoring codes of a crossing, in order for a measured one, one reached at the grid's first n, one not
#: reached by its last n, and one not measured (the search did not resolve it, or the cell was not run).
CENSORING = ("", "below", "above", "missing")

#: The grid's indices: ``n = round(2^(i/2))`` is a positive int64 for ``0 <= i <= 124``.
INDEX = core.Whole(0, 124)
I_MIN, I_MAX = INDEX, core.Whole(lambda a: a["i_min"], 124)


def _visits(value, name: str, arguments: dict) -> dict:
    """``{index: loss}``: grid indices in ``[i_min, i_max]``, losses >= 0 (NaN or infinite: not reached)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{grid index: loss}}, got {type(value).__name__}")
    out = {}
    for i, loss in value.items():
        i = core.whole(i, f"{name} index", low=arguments["i_min"], high=arguments["i_max"])
        loss = core.real(loss, f"{name}[{i}]", low=0.0, allow_inf=True) if loss == loss else math.nan
        out[i] = loss
    return out


def _previous(value, name: str, arguments: dict) -> list:
    """``[(m, log n*)]`` with ``m > 0`` strictly increasing; ``log n*`` may be NaN or infinite."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of (m, log n*) pairs or None, got {type(value).__name__}")
    out = []
    for k, pair in enumerate(value):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{name}[{k}] must be an (m, log n*) pair, got {pair!r}")
        m = core.real(pair[0], f"{name}[{k}] m", low=0.0, low_open=True)
        v = core.real(pair[1], f"{name}[{k}] log n*", allow_inf=True) if pair[1] == pair[1] else math.nan
        if out and m <= out[-1][0]:
            raise ValueError(f"{name} must be ascending in m, got m = {out[-1][0]:g} then {m:g}")
        out.append((m, v))
    return out


@core.validated(i=core.WholeArray(0, 124))
def grid_n(i) -> np.ndarray | int:
    """The sample count of grid index ``i`` (whole, 0 to 124): ``round(2^(i/2))`` (int for an int, array for an
    array)."""
    out = np.round(2.0 ** (np.asarray(i, dtype=float) / 2)).astype(np.int64)
    return int(out) if np.ndim(out) == 0 else out


def grid_index(n: float) -> float:
    """The (fractional) grid index of a sample count ``n``: ``2 log2 n``."""
    return 2.0 * math.log2(core.real(n, "n", low=0.0, low_open=True))


def _status(visited: dict, target: float, i_min: int, i_max: int) -> tuple[str, int | None, int | None]:
    """(state, lowest succeeding index, highest failing index below it) of one target."""
    ok = sorted(i for i, loss in visited.items() if loss <= target)
    s = ok[0] if ok else None
    below = [i for i in visited if (s is None or i < s) and not visited[i] <= target]
    f = max(below) if below else None
    if s is not None and s <= i_min:
        return "below", s, f
    if s is None and f is not None and f >= i_max:
        return "above", s, f
    if s is not None and f is not None and s - f == 1:
        return "bracketed", s, f
    return "open", s, f


def _step(loss: float, target: float) -> int:
    """One index (a factor sqrt 2) when the loss is within a factor 2 of the target, two within a factor 8,
    four (a factor 4 in n) farther out."""
    ratio = abs(math.log(max(min(loss, 1e300), 1e-300) / target))
    return 1 if ratio <= math.log(2.0) else 2 if ratio <= math.log(8.0) else 4


def _secant(visited: dict, anchor: int, target: float) -> float | None:
    """The (fractional) index where the line through ``anchor`` and its nearest other visit, in ``log`` loss
    against the index, meets ``target``; None without a falling line."""
    others = [i for i in visited if i != anchor and math.isfinite(visited[i]) and visited[i] > 0]
    if not others or not (math.isfinite(visited[anchor]) and visited[anchor] > 0):
        return None
    b = min(others, key=lambda i: (abs(i - anchor), i))
    slope = (math.log(visited[anchor]) - math.log(visited[b])) / (anchor - b)
    if slope > -1e-3:
        return None
    return anchor + (math.log(target) - math.log(visited[anchor])) / slope


@core.validated(
    i_min=I_MIN,
    i_max=I_MAX,
    visited=core.Check(_visits),
    targets=core.RealArray(0.0, low_open=True, ndim=1, min_size=1),
    start=core.Whole(None),
    max_jump=core.Whole(1),
)
def next_index(visited: dict, targets, start: int, i_min: int, i_max: int, max_jump: int = 6) -> int | None:
    """The next grid index to train for one seed, or None when every target is resolved.

    visited : ``{index: loss}`` of the points trained so far (loss relative to ``Var(y)``; NaN counts as not
    reaching any target). targets : in priority order (the main target first). start : where an empty search
    begins. i_min, i_max : the grid's ends. Moving away from the visits, the search steps to just past the
    crossing predicted by the line through the two nearest visits (in ``log`` loss against the index, exact for
    a power law), at most ``max_jump`` indices; with one visit it steps by one to four indices.
    """
    if not visited:
        return int(min(max(start, i_min), i_max))
    for target in targets.tolist():
        state, s, f = _status(visited, target, i_min, i_max)
        if state != "open":
            continue
        if s is not None and f is not None:
            return (s + f) // 2
        anchor = s if s is not None else max(visited)
        guess = _secant(visited, anchor, target)
        if s is not None:
            jump = _step(visited[s], target) if guess is None else s - math.floor(guess)
            return max(i_min, s - min(max(jump, 1), max_jump))
        jump = _step(visited[anchor], target) if guess is None else math.ceil(guess) - anchor
        return min(i_max, anchor + min(max(jump, 1), max_jump))
    return None


@core.validated(i_min=I_MIN, i_max=I_MAX, visited=core.Check(_visits), target=core.Real(0.0, low_open=True))
def crossing(visited: dict, target: float, i_min: int, i_max: int) -> tuple[float, str]:
    """``(n*, censoring)`` of one seed's search at ``target``.

    Bracketed: ``n*`` interpolated with ``log n`` linear in ``log`` loss between the failing and the succeeding
    index (the succeeding ``n`` if the failing loss is not finite), ``censoring`` ``""``. Censored below: ``n*``
    the grid's first ``n`` (an upper bound), ``"below"``.
    Censored above: the largest ``n`` trained (a lower bound), ``"above"``. Not resolved: NaN, ``"missing"``.
    """
    return _crossing(visited, target, i_min, i_max)


def _crossing(visited: dict, target: float, i_min: int, i_max: int) -> tuple[float, str]:
    if not visited:
        return float("nan"), "missing"
    state, s, f = _status(visited, target, i_min, i_max)
    if state == "below":
        return float(grid_n(i_min)), "below"
    if state == "above":
        return float(grid_n(max(visited))), "above"
    if state == "open":
        return float("nan"), "missing"
    if not math.isfinite(visited[f]):  # a failed fit below: no slope to interpolate, take the succeeding n
        return float(grid_n(s)), ""
    n0, n1, l0, l1 = math.log(grid_n(f)), math.log(grid_n(s)), math.log(visited[f]), math.log(max(visited[s], 1e-300))
    frac = (l0 - math.log(target)) / (l0 - l1)
    return float(math.exp(n0 + frac * (n1 - n0))), ""


def _indices(value, name: str, arguments: dict) -> np.ndarray:
    index = core.whole_array(value, name, low=-1, high=arguments["i_max"])
    if index.ndim == 0 or np.any((index >= 0) & (index < arguments["i_min"])):
        raise ValueError(
            f"{name} must be (..., V): -1 (unused) or grid indices in [{arguments['i_min']}, {arguments['i_max']}]"
        )
    return index


def _losses(value, name: str, arguments: dict) -> np.ndarray:
    loss = core.array(value, name, finite=False)
    if np.any(loss < 0):
        raise ValueError(
            f"{name} must hold losses >= 0 (NaN where a fit failed); its smallest is {np.nanmin(loss):.4g}"
        )
    return loss


@core.validated(
    i_min=I_MIN,
    i_max=I_MAX,
    index=core.Check(_indices),
    loss=core.Check(_losses),
    target=core.Real(0.0, low_open=True),
)
def crossings(index, loss, target: float, i_min: int, i_max: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`crossing` over stored visits: ``index`` (..., V) int grid indices (-1 where unused, else in ``[i_min,
    i_max]``), ``loss`` (..., V) >= 0. Returns ``n_star`` (...) float and ``censoring`` (...) of strings from
    :data:`CENSORING`."""
    if index.shape != loss.shape:
        raise ValueError(f"index and loss must have one shape, got {index.shape} and {loss.shape}")
    n_star = np.full(index.shape[:-1], np.nan)
    censoring = np.full(index.shape[:-1], "missing", dtype=object)
    for idx in np.ndindex(n_star.shape):
        visited = {int(i): float(v) for i, v in zip(index[idx], loss[idx]) if i >= 0}
        visited = {i: (math.inf if math.isnan(v) else v) for i, v in visited.items()}
        n_star[idx], censoring[idx] = _crossing(visited, target, i_min, i_max)
    return n_star, censoring


@core.validated(
    i_min=I_MIN,
    i_max=I_MAX,
    previous=core.Check(_previous),
    input_dim=core.Real(0.0, low_open=True),
    default=INDEX,
)
def start_index(previous, input_dim: int, default: int, i_min: int, i_max: int) -> int:
    """Where the search at ``input_dim`` begins, from ``previous``: ``[(m, log n*)]`` of the median at smaller
    ``m`` (ascending; ``inf`` when censored above, ``-inf`` below). None or empty: ``default``. One point:
    ``n*`` proportional to ``m`` from there. Two or more: the log-log line through the last two, its slope
    clipped to ``[0, 3]``."""
    pts = [(m, v) for m, v in previous if not math.isnan(v)]
    if not pts:
        return int(default)
    m1, v1 = pts[-1]
    if math.isinf(v1):
        return i_max if v1 > 0 else i_min
    slope = 1.0
    if len(pts) >= 2 and math.isfinite(pts[-2][1]):
        m0, v0 = pts[-2]
        slope = min(3.0, max(0.0, (v1 - v0) / math.log(m1 / m0)))
    guess = v1 + slope * math.log(input_dim / m1)
    return int(min(max(round(2 * guess / math.log(2)), i_min), i_max))
