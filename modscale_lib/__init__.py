"""modscale: the library behind the executable book reproducing *Breaking Neural Network Scaling Laws with
Modularity* (Boopathy et al., ICLR 2025).

Packages in the book's order, each a public ``__init__`` over private modules: ``core`` (validation, seeding,
intervals), ``store`` (the content-addressed results store and its ledger), ``theory`` (closed forms of the
linear model), ``peers`` (classic dimension reduction), ``present`` (explorers); ``experiments`` (one module per
chapter, with ``cpu`` and ``full`` configs) and the modules that issue 23's phase B gathers into packages.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("modscale")
except _metadata.PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0+unknown"
