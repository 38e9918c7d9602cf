"""The chapters' own code: one package per notebook that reads stored results, named like it (so far
``theory_vs_networks``), each with ``readout.py`` (``conclusions(res, config) -> dict``, the values the chapter
glues into its prose, on numpy) and ``figures.py`` (the figures, tables and printed lines it shows).

Arrows point down: a chapter's package may import anything of the library below it, and nothing imports a
chapter's package but its own folder and its notebook. Each chapter's public names are those of its package
(``from modscale_lib.chapters import theory_vs_networks``); this package itself exports none.
"""

__all__: list[str] = []
