"""modscale: the library behind the executable book reproducing *Breaking Neural Network Scaling Laws with
Modularity* (Boopathy et al., ICLR 2025).

Modules, one concept each: ``theory`` (closed forms of the linear model), ``experiments`` (one function per
figure, with ``cpu`` and ``full`` scales), ``results`` (the content-addressed results store) and
``plotting`` (the book's figure style).
"""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("modscale")
except _metadata.PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0+unknown"
