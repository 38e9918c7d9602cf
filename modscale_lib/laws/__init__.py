"""Which law the samples needed follow in the input dimension: power, exponential or flat (numpy and scipy only).

The book's central question is whether ``n*(m)``, the fewest samples reaching a target, grows exponentially in
the input dimension ``m`` or as a power of it, for each kind of network. Its parts, one private module each:
the decision (fit both laws to censored ``log n*`` per seed and ``m``, intervals over seeds that hold their
level, and the verdict), the simulation (the whole pipeline on synthetic learning curves with a known law: the
intervals' coverage and the verdict's error rates) and the regimes (what each regime of the theory predicts
for each task, with its citation). Every public name is available as ``laws.NAME``.
"""

from ._decision import *  # noqa: F403
from ._decision import __all__ as _decision_all
from ._regimes import *  # noqa: F403
from ._regimes import __all__ as _regimes_all
from ._simulation import *  # noqa: F403
from ._simulation import __all__ as _simulation_all

__all__ = [*_decision_all, *_simulation_all, *_regimes_all]
