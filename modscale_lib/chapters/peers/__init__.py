"""The chapter *How classic dimension reduction compares* (``book/peers.ipynb``): its read-out
(:func:`measurements` once, then :func:`conclusions`, every value its prose glues) and what it shows of them (the
figure, tables and printed lines of ``figures``). The methods are :mod:`modscale_lib.peers`; the intervals and
verdicts :mod:`modscale_lib.analysis`; the experiment is ``experiments.peer_comparison``. (The chapter's package
shares its name with :mod:`modscale_lib.peers`: import it as ``from modscale_lib.chapters import peers as
chapter``.)"""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
