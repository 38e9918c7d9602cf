"""Which law the samples needed follow in the input dimension: power, exponential or flat (numpy and scipy only).

The book's central question is whether ``n*(m)``, the fewest samples reaching a target, grows exponentially in
the input dimension ``m`` or as a power of it, for each kind of network. Its parts, one module each:
:mod:`.decision` (fit both laws to censored ``log n*`` per seed and ``m``, intervals over seeds that hold their
level, and the verdict), :mod:`.simulation` (the whole pipeline on synthetic learning curves with a known law:
the intervals' coverage and the verdict's error rates) and :mod:`.regimes` (what each regime of the theory
predicts for each task, with its citation). Every public name is available as ``laws.NAME``.
"""
from .decision import *  # noqa: F401,F403
from .decision import __all__ as _decision
from .simulation import *  # noqa: F401,F403
from .simulation import __all__ as _simulation
from .regimes import *  # noqa: F401,F403
from .regimes import __all__ as _regimes

__all__ = [*_decision, *_simulation, *_regimes]
