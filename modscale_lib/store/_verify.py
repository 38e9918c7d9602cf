"""Checking a results store (``python -m modscale_lib verify``): every record against its checksums, key,
folder and registered version; every folder of sweep cells, cell by cell, against the result and run it
belongs to; and the files that belong to nothing. Reads files only through the store's bounded reads, so
nothing in the store can hang it or exhaust its memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..core import Check, FilePath, validated
from . import _files
from ._files import STORE_MARKER, CorruptResultError, parse_json, read_file
from ._records import read, stored_results
from ._sweeps import IDENTITY, check_cell, record_checksum

__all__ = ["verify_store"]


def _identity(folder: Path) -> dict | None:
    try:
        ident = parse_json(read_file(folder / IDENTITY, limit=_files.MAX_JSON_BYTES))
    except (OSError, ValueError):
        return None
    return ident if isinstance(ident, dict) else None


def _identity_from_cells(cells: list[Path]) -> dict | None:
    """The run that readable cells agree they belong to (experiment, version, key, replaces), or None."""
    stamps = set()
    for path in cells:
        try:
            _, record = check_cell(path)
        except CorruptResultError:
            continue
        stamps.add(tuple(record.get(k) for k in ("experiment", "version", "key", "replaces")))
    if len(stamps) != 1:
        return None
    return dict(zip(("experiment", "version", "key", "replaces"), stamps.pop()))


def _resume_command(ident: dict, registry: dict) -> str:
    try:
        exp = registry[ident["experiment"]]
        command = exp.command(exp.config_from_dict(ident["config"]))
    except Exception:  # an identity written by hand, or a config no longer valid
        return "the command that started it"
    return command + (" --force" if ident.get("replaces") is not None else "")


def _verify_cells(folder: Path, counts: dict, registry: dict, report: Callable[[str], None]) -> None:
    """Check one ``<key>.cells`` folder: every cell, and whether its run is in progress or stale."""
    if folder.is_symlink() or not folder.is_dir():
        report(f"STRAY        {folder}: not a folder of cells; delete it")
        counts["stray"] += 1
        return
    key = folder.name[: -len(".cells")]
    ident = _identity(folder)
    cells = sorted(p for p in folder.iterdir() if p.suffix == ".npz")
    others = sorted(p for p in folder.iterdir() if p.suffix != ".npz" and p.name != IDENTITY)
    if ident is None and cells:  # the cells carry their binding; the identity only names the resume command
        ident = _identity_from_cells(cells)
        if ident is not None:
            report(
                f"STRAY        {folder / IDENTITY}: missing or unreadable (it names the command that resumes "
                f"the run; the cells say which run they belong to)"
            )
            counts["stray"] += 1
    if ident is None or ident.get("key") != key or ident.get("experiment") != folder.parent.name:
        if not cells:
            report(f"STRAY        {folder}: an empty folder of cells; delete it")
            counts["stray"] += 1
        else:
            why = "no readable " + IDENTITY if ident is None else f"its {IDENTITY} names another result"
            report(f"CORRUPT      {folder}: {len(cells)} cells that cannot be tied to a run ({why}); delete the folder")
            counts["bad"] += 1
        return
    stamp = {k: ident.get(k) for k in ("experiment", "version", "key", "replaces")}
    bad = 0
    for path in cells:
        try:
            check_cell(path, stamp)
        except CorruptResultError as exc:
            report(f"CORRUPT      {exc}")
            bad += 1
    counts["bad"] += bad
    for path in others:
        report(f"STRAY        {path}: not a cell (left by an interrupted write or older code); delete it")
        counts["stray"] += 1
    current = record_checksum(folder.with_name(f"{key}.json"))
    exp = registry.get(ident["experiment"])
    if exp is not None and exp.version != ident.get("version"):
        report(
            f"STALE        {folder}: {len(cells)} cells of version {ident.get('version')}, the code is at version "
            f"{exp.version}; delete the folder"
        )
        counts["stray"] += 1
    elif ident.get("replaces") == current:
        what = "a recompute of the stored result" if current is not None else "a computation"
        report(
            f"IN PROGRESS  {folder}: {what}, {len(cells) - bad} cells stored; resume with "
            f"{_resume_command(ident, registry)}"
        )
        counts["in_progress"] += 1
    else:
        report(
            f"LEFTOVER     {folder}: {len(cells)} cells of an earlier run of a result that is stored or replaced "
            f"since; delete the folder"
        )
        counts["stray"] += 1


def _registry(value, name: str, arguments: dict) -> dict:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must map experiment names to Experiments (store.REGISTRY), got {type(value).__name__}")
    return value


def _report(value, name: str, arguments: dict) -> Callable[[str], None]:
    if not callable(value):
        raise TypeError(f"{name} must be callable with one line of text (e.g. print), got {type(value).__name__}")
    return value


def _verify_record(path: Path, root: Path, registry: dict, report, counts: dict, referenced: set, damaged: set) -> None:
    """Check one stored result ``path``: report it, count it, and note its files (``referenced``) or, if it is
    damaged, its key (``damaged``)."""
    rel = f"{path.parent.name}/{path.name}"
    try:
        res = read(path)
    except CorruptResultError as exc:
        report(f"CORRUPT      {exc}")
        counts["bad"] += 1
        damaged.add((path.parent, path.stem))
        return
    files = [root / res.experiment / f for f in res.files]
    referenced.update(files)
    exp = registry.get(res.experiment)
    if exp is None:
        report(f"ORPHAN       {rel}: no registered experiment is called {res.experiment!r}")
    elif exp.version != res.version:
        report(f"STALE        {rel}: stored at version {res.version}, the code is at version {exp.version}")
    else:
        try:
            exp.config_from_dict(res.config)
        except Exception as exc:  # whatever the config's own checks raise
            report(f"INVALID      {rel}: its config is no longer valid ({exc})")
        else:
            if exp.config_name(res.config) is None:
                report(
                    f"UNREAD       {rel}: its config is none of {exp.name}'s named configs "
                    f"{exp.configs}, so no chapter reads it; delete it with:\n"
                    f"                 rm {' '.join(str(f) for f in files)}"
                )
                counts["unread"] += 1
            else:
                report(f"ok           {rel}")
            counts["ok"] += 1
            return
    counts["bad"] += 1


@validated(root=FilePath(), registry=Check(_registry), report=Check(_report))
def verify_store(root: Path, registry: dict, report: Callable[[str], None] = print) -> dict:
    """Check every stored result and every folder of sweep cells in the store ``root``, against the
    experiments in ``registry``; ``report`` each finding as one line (or a few, for a command to run), and
    return the counts: ``ok`` results, ``bad`` (problems), ``unread``, ``in_progress`` sweeps, ``stray`` files."""
    counts = dict.fromkeys(("ok", "bad", "unread", "in_progress", "stray"), 0)
    referenced, damaged = set(), set()
    for entry in sorted(root.iterdir()):
        if entry.name != STORE_MARKER and (entry.is_symlink() or not entry.is_dir() or not entry.name.isidentifier()):
            report(
                f"STRAY        {entry}: not an experiment's folder (the store holds folders named after "
                f"experiments, no links); move it out of the store"
            )
            counts["stray"] += 1
    for path in stored_results(root):
        _verify_record(path, root, registry, report, counts, referenced, damaged)
    for folder in sorted(root.glob("*/*.cells")):
        _verify_cells(folder, counts, registry, report)
    for npz in sorted(set(root.glob("*/*.npz")) - referenced):
        owner = (npz.parent, npz.name.split(".")[0])
        if owner in damaged:  # part of a damaged record, reported above: not a leftover to delete on its own
            report(
                f"DAMAGED      {npz}: the arrays of the damaged record {owner[1]}.json above; restore both from git "
                f"(git checkout -- {owner[0]}) or delete both and recompute"
            )
            continue
        report(f"STRAY        {npz}: not part of any stored result (left by an interrupted write); delete it")
        counts["stray"] += 1
    for stray in sorted(root.glob("*/.*.tmp")):
        report(
            f"STRAY        {stray}: a temporary file (left by an interrupted write, or a lock held now); delete it "
            f"when no computation runs"
        )
        counts["stray"] += 1
    report(
        f"{counts['ok']} ok, {counts['bad']} with problems, {counts['unread']} unread, "
        f"{counts['in_progress']} in progress, {counts['stray']} stray files"
    )
    return counts
