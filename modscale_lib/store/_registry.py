"""What an experiment is: a named, versioned computation of a config, and the key its result is stored under.

:func:`experiment` registers a function in ``REGISTRY`` as an :class:`Experiment`: its name (the store's
folder), version, config dataclass, named configs (``cpu``, ``full``, ...), the chapter that reads it, and
whether it is a resumable sweep. :func:`result_key` hashes (name, version, canonical config).

Configs are canonicalised before keying, by their fields' annotations (strings under ``from __future__
import annotations``; ``int``, ``float``, ``bool``, ``str``, ``tuple``, ``tuple[int, ...]``, ``X | None``
are understood): a float that is exactly whole, given for an ``int`` field, is taken as that int
(``p=5.0`` and ``p=5`` are one config, one key), a fraction is refused; an int given for a ``float`` field
becomes a float; tuples become lists, numpy scalars Python numbers. Whole numbers stay ints, so a config
that does not change keeps its key. The plain JSON that is hashed and stored comes from :func:`plain` and
:func:`canonical_json`. This module imports numpy, the standard library and :mod:`modscale_lib.core` only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import Check, Whole, boolean, real, validated, whole

__all__ = [
    "Experiment",
    "experiment",
    "REGISTRY",
    "result_key",
    "canonical_config",
    "parse_config_json",
    "KEY_LENGTH",
    "plain",
    "canonical_json",
    "sha256",
]

KEY_LENGTH = 16  # hex digits of SHA-256: 64 bits, ample for a few thousand results
REGISTRY: dict[str, Experiment] = {}


def plain(value: Any) -> Any:
    """Plain JSON types, recursively (tuples -> lists, numpy scalars -> Python); ints stay ints."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype != object:
        return plain(value.tolist())
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"value {value!r} of type {type(value).__name__} cannot be stored as JSON")


def canonical_json(obj: Any) -> str:
    """``obj`` (plain JSON types) as the one JSON text that is hashed: keys sorted, no spaces (so the text, and
    its hash, do not depend on dict order or the process)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def sha256(data: bytes | str) -> str:
    """The SHA-256 of ``data`` (a string is encoded as UTF-8), as 64 hex digits."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _field_kind(annotation: Any) -> tuple[str, bool, str]:
    """(kind, optional, element kind) of a field annotation, a string under ``from __future__ import annotations``."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    parts = [p.strip() for p in text.replace("typing.", "").split("|")]
    optional = "None" in parts
    parts = [p for p in parts if p != "None"]
    base = parts[0] if len(parts) == 1 else ""
    if base.lower().startswith("tuple"):
        inner = base[5:].strip("[]").split(",")[0].strip()
        return "tuple", optional, inner if inner in ("int", "float", "str", "bool") else ""
    return (base if base in ("int", "float", "bool", "str", "dict") else ""), optional, ""


def _canonical_value(value: Any, kind: str, name: str) -> Any:
    if kind == "int":
        return whole(value, name)
    if kind == "float":
        return real(value, name, allow_inf=True)
    if kind == "bool":
        return boolean(value, name)
    if kind == "str" and not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
    return plain(value)


def canonical_config(config: Any) -> dict:
    """A config as the plain dict that is keyed and stored, normalised by its fields' annotations.

    ``int`` fields: whole numbers (``5.0`` -> ``5``; ``2.5``, bools and strings refused); ``float`` fields:
    floats (``1`` -> ``1.0``; NaN refused); ``bool`` and ``str`` fields are checked; ``tuple`` fields become
    lists (of ints or floats, normalised likewise, under ``tuple[int, ...]`` or ``tuple[float, ...]``);
    ``X | None`` also allows None. A dict is taken as already canonical (it is only made plain).
    """
    if isinstance(config, dict):
        return plain(config)
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        raise TypeError(f"a config must be a dataclass instance or a dict, got {type(config).__name__}")
    out = {}
    for f in dataclasses.fields(config):
        kind, optional, element = _field_kind(f.type)
        value, name = getattr(config, f.name), f"{type(config).__name__}.{f.name}"
        if value is None:
            if kind and not optional:
                raise TypeError(f"{name} must not be None (it is annotated {f.type})")
            out[f.name] = None
        elif kind == "tuple":
            if not isinstance(value, (list, tuple, np.ndarray)):
                raise TypeError(f"{name} must be a tuple, got {value!r} ({type(value).__name__})")
            out[f.name] = [_canonical_value(v, element, f"{name}[{i}]") for i, v in enumerate(value)]
        else:
            out[f.name] = _canonical_value(value, kind, name)
    return out


def _text(value: Any, name: str, arguments: dict) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, got {value!r} ({type(value).__name__})")
    return value


@validated(name=Check(_text), version=Whole(0))
def result_key(name: str, version: int, config: Any) -> str:
    """The store key: the first 16 hex digits of SHA-256 of the canonical JSON of (name, version, config)."""
    identity = {"experiment": name, "version": version, "config": canonical_config(config)}
    return sha256(canonical_json(identity))[:KEY_LENGTH]


def _unique_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"the config JSON repeats the key(s) {repeated}; give each field once")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"the config JSON holds {name}, which is not JSON; give a finite number")


def parse_config_json(text: str) -> dict:
    """A config given as JSON text (``--config-json``) as a dict, refusing what JSON parsers accept silently:
    a repeated key (the last one would win), ``NaN``/``Infinity``, and anything but an object at the top."""
    if not isinstance(text, str):
        raise TypeError(f"text (the config JSON) must be a string, got {type(text).__name__}")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the config is not valid JSON ({exc}); give an object such as '{{\"seeds\": [0, 1]}}'"
        ) from exc
    if not isinstance(value, dict):
        raise ValueError(
            f'the config JSON must be an object ({{"field": value, ...}}), got {type(value).__name__} '
            f"{text.strip()[:40]!r}"
        )
    return value


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (it is a folder name in the store), got {name!r}")
    return name


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


class _ComputeAll:
    """What a sweep gets when called directly: every cell computed in order, none stored (the store's
    :class:`modscale_lib.store.Cells` has the same ``map``)."""

    def map(self, items, compute, *, desc=None) -> list:
        # values come back as the store gives them (JSON's lists, not tuples), arrays as they are
        return [
            {k: v if isinstance(v, np.ndarray) else json.loads(json.dumps(plain(v))) for k, v in compute(item).items()}
            for item in items
        ]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A named, versioned computation whose outputs the store keeps.

    ``func(config) -> dict``, or for a sweep ``func(config, cells) -> dict`` where ``cells`` is a
    :class:`modscale_lib.store.Cells`. ``config_type`` is a dataclass whose classmethods named in ``configs``
    give the named configs (``cpu``: committed, runs on a laptop; ``full``: the paper's ranges, for a GPU).
    ``chapter`` is the stem of the notebook that reads the results.
    """

    name: str
    version: int
    func: Callable[..., dict]
    config_type: type
    chapter: str | None = None
    configs: tuple[str, ...] = ("cpu", "full")
    sweep: bool = False

    def __post_init__(self):
        # checked here, not only in the decorator, so that no Experiment names a folder outside the store
        _check_name(self.name)
        object.__setattr__(self, "version", whole(self.version, "version", low=0))
        if not (isinstance(self.config_type, type) and dataclasses.is_dataclass(self.config_type)):
            raise TypeError(f"config_type must be a dataclass, got {self.config_type!r}")
        if not callable(self.func):
            raise TypeError(f"func must be callable, got {self.func!r}")
        if self.chapter is not None and not (isinstance(self.chapter, str) and self.chapter):
            raise ValueError(f"chapter must be a notebook stem (a non-empty string), got {self.chapter!r}")
        object.__setattr__(self, "configs", tuple(self.configs))
        for c in self.configs:
            if not callable(getattr(self.config_type, c, None)):
                raise ValueError(f"configs names {c!r}, but {self.config_type.__name__} has no classmethod {c}()")
        object.__setattr__(self, "sweep", boolean(self.sweep, "sweep"))

    def __call__(self, config: Any, cells: Any = None) -> dict:
        if not self.sweep:
            return self.func(config)
        return self.func(config, _ComputeAll() if cells is None else cells)

    def config(self, name: str) -> Any:
        """The named config ``name``, one of :attr:`configs` (e.g. ``"cpu"``, ``"full"``)."""
        if name not in self.configs:
            raise ValueError(f"config name must be one of {self.configs} for {self.name!r}, got {name!r}")
        return getattr(self.config_type, name)()

    def check_config(self, config: Any) -> dict:
        """Check that ``config`` is a ``config_type`` with valid fields; return its canonical dict."""
        if not isinstance(config, self.config_type):
            raise TypeError(
                f"config for {self.name!r} must be a {self.config_type.__name__} (e.g. "
                f"{self.name}.config({self.configs[0]!r})), got {type(config).__name__}"
            )
        return canonical_config(config)

    def config_name(self, config: Any) -> str | None:
        """The name of the named config equal to ``config`` (a config or its stored dict), or None."""
        target = canonical_config(config)
        for name in self.configs:
            try:
                if canonical_config(self.config(name)) == target:
                    return name
            except (TypeError, ValueError, AttributeError):
                continue
        return None

    def config_from_dict(self, values: dict) -> Any:
        """Rebuild a config from its stored JSON form (lists become tuples in tuple fields)."""
        fields = {f.name: f for f in dataclasses.fields(self.config_type)}
        if not isinstance(values, dict):
            raise ValueError(
                f"config for {self.name!r} must be a JSON object of fields ({sorted(fields)}), got "
                f"{type(values).__name__} {values!r}"[:300]
            )
        if set(values) - set(fields):
            raise ValueError(
                f"config for {self.name!r} has unknown fields {sorted(set(values) - set(fields))}; "
                f"allowed: {sorted(fields)}"
            )
        return self.config_type(
            **{k: _tuples(v) if _field_kind(fields[k].type)[0] == "tuple" else v for k, v in values.items()}
        )

    def command(self, config: Any) -> str:
        """The shell command that computes and stores this experiment at ``config``."""
        name = self.config_name(config)
        base = f"python -m modscale_lib compute {self.name}"
        if name:
            return f"{base} --config {name}"
        return f"{base} --config-json '{canonical_json(canonical_config(config))}'"


def experiment(
    name: str,
    version: int,
    config_type: type,
    *,
    chapter: str | None = None,
    configs: tuple[str, ...] = ("cpu", "full"),
    sweep: bool = False,
) -> Callable[[Callable], Experiment]:
    """Decorator registering ``func`` as the stored experiment ``name`` (see :class:`Experiment`).

    ``func`` returns a dict of plain values (numbers, strings, lists, nested dicts; they go to the JSON) and
    numpy arrays (they go to the NPZ).
    """
    # checked now, before the function is defined, and again by Experiment itself
    Experiment(name, version, lambda cfg: {}, config_type, chapter, tuple(configs), sweep)

    def wrap(func: Callable[..., dict]) -> Experiment:
        exp = Experiment(name, version, func, config_type, chapter, configs, sweep)
        REGISTRY[name] = exp
        return exp

    return wrap
