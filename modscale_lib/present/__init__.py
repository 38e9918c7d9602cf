"""What the reader sees beyond figures: the explorers of the theory pages (closed forms only, drawn in the
browser or in a live notebook). The book's figure style and HTML tables join here in phase B of issue 23
(today :mod:`modscale_lib.plotting`). Imports no experiment."""

from ._explorers import LINEAR_MODEL_SLIDERS, draw_linear_model, linear_model_explorer, static_linear_model_explorer

__all__ = ["static_linear_model_explorer", "linear_model_explorer", "draw_linear_model", "LINEAR_MODEL_SLIDERS"]
