"""Find the images of an evaluation set and turn each into a descriptor, or a failure."""

from __future__ import annotations

from collections.abc import Iterable
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


def acquire(
    paths: Iterable[Path], describer: PhotoDescriber, progress: Progress | None = None
) -> Acquisition:
    """Describe each distinct image once; bad images are recorded, never fatal.

    Args:
        paths: image paths (duplicates are described once).
        describer: turns a photo into its primary face's descriptor.
        progress: told of each finished image.
    """
    unique = sorted(set(paths))
    if progress is not None:
        progress.start(len(unique), "describing faces")
    result = Acquisition()
    for path in unique:
        try:
            result.descriptors[path] = describer.describe(path)
        except BadInputError as err:
            result.failures[path] = str(err)
        if progress is not None:
            progress.advance()
    return result


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
