"""Find the images of an evaluation set and turn each into a descriptor, or a failure."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from facegate.domain.errors import BadInputError, DataSetError
from facegate.domain.matching import FloatArray
from facegate.ports import PhotoDescriber, Progress

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pgm", ".ppm", ".pbm", ".webp", ".tif", ".tiff"}
)
"""File name endings treated as images when a folder is searched (case-insensitive)."""


@dataclass(slots=True)
class Acquisition:
    """Descriptors of the images that yielded one, and the reason for each that did not."""

    descriptors: dict[Path, FloatArray] = field(default_factory=dict)
    failures: dict[Path, str] = field(default_factory=dict)

    def failure_list(self) -> list[dict[str, str]]:
        """``[{"path": ..., "reason": ...}]`` in path order, for reports."""
        return [{"path": str(p), "reason": r} for p, r in sorted(self.failures.items())]


_worker_describer: PhotoDescriber | None = None
"""The describer of this process: the caller's, or in a worker process its own copy."""


def _install_describer(describer: PhotoDescriber) -> None:
    global _worker_describer
    _worker_describer = describer


def _describe_or_fail(path: Path) -> tuple[Path, FloatArray | str]:
    describer = _worker_describer
    if describer is None:
        raise RuntimeError("no describer in this worker process")
    try:
        return path, describer.describe(path)
    except BadInputError as err:
        return path, str(err)


def acquire(
    paths: Iterable[Path],
    describer: PhotoDescriber,
    progress: Progress | None = None,
    *,
    workers: int = 1,
) -> Acquisition:
    """Describe each distinct image once; bad images are recorded, never fatal.

    Args:
        paths: image paths (duplicates are described once).
        describer: turns a photo into its primary face's descriptor.
        progress: told of each finished image.
        workers: processes to describe in; above 1 the describer is pickled to fresh
            worker processes (a model-backed describer pickles as its recipe and loads
            its models there), so each core describes its own share.
    """
    global _worker_describer
    unique = sorted(set(paths))
    if progress is not None:
        progress.start(len(unique), "describing faces")
    result = Acquisition()
    _worker_describer = describer
    try:
        for path, outcome in _outcomes(unique, workers):
            if isinstance(outcome, str):
                result.failures[path] = outcome
            else:
                result.descriptors[path] = outcome
            if progress is not None:
                progress.advance()
    finally:
        _worker_describer = None
    return result


def _outcomes(paths: list[Path], workers: int) -> Iterator[tuple[Path, FloatArray | str]]:
    if workers <= 1 or len(paths) < 2 * workers:
        yield from map(_describe_or_fail, paths)
        return
    # Spawned, not forked: dlib's thread pool does not survive a fork (a forked child
    # that runs the CNN detector after its parent did can deadlock).
    describer = _worker_describer
    with mp.get_context("spawn").Pool(
        workers, initializer=_install_describer, initargs=(describer,)
    ) as pool:
        yield from pool.imap(_describe_or_fail, paths, chunksize=4)


def find_identities(root: Path) -> dict[str, list[Path]]:
    """A folder-per-person set: every folder holding images directly is one person.

    The person's name is the folder's path relative to ``root``, so ``faces/att`` (people
    ``s1``...) and ``faces`` (people ``att/s1``...) both work.

    Raises:
        DataSetError: ``root`` is not a folder or holds no images.
    """
    if not root.is_dir():
        raise DataSetError(f"{root}: not a folder")
    people: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            person = path.parent.relative_to(root).as_posix()
            people.setdefault(person, []).append(path)
    if not people:
        raise DataSetError(
            f"{root}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return people
