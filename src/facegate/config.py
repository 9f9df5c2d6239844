"""Settings: defaults, environment variables (``FACEGATE_*``) and the site's calibration.

Precedence, highest first: values passed by the caller (CLI options), environment
variables, the calibration file ``<data-dir>/calibration.json`` (for the match threshold
only), and the defaults documented on each settings class. Nested values use ``__`` in
environment names, e.g. ``FACEGATE_DETECTION__FALLBACK=none`` or
``FACEGATE_QUALITY__MIN_SHARPNESS=30``. Reading settings never loads a model.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from facegate.domain.calibration import Calibration
from facegate.domain.errors import BadInputError
from facegate.domain.faces import QualityThresholds
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD, MatchPolicy
from facegate.domain.retention import RetentionPolicy
from facegate.vision.detection import DetectionSettings
from facegate.vision.embedding import EmbeddingSettings
from facegate.vision.images import ImageLimits

CALIBRATION_FILE = "calibration.json"
DATABASE_FILE = "facegate.db"
"""The SQLite database in the data directory (used unless ``db_url`` is set)."""
SITE_KEY_FILE = "site.key"
"""The site key file in the data directory (used unless ``site_key`` is set)."""


def _xdg_dir(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable) or str(Path.home() / fallback)
    return Path(base) / "facegate"


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Match settings as configured; :meth:`Settings.match_policy` resolves them.

    Attributes:
        threshold: euclidean distance threshold; ``None`` (default) takes the site's
            calibration file, else the shipped 0.57.
        min_margin: least lead of the nearest person over the second in 1:N search
            (default 0.0, i.e. off; typical 0.02-0.05).
    """

    threshold: float | None = None
    min_margin: float = 0.0


class Settings(BaseSettings):
    """Everything a facegate process can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="FACEGATE_", env_nested_delimiter="__", env_parse_none_str="none"
    )

    data_dir: Path = Field(default_factory=lambda: _xdg_dir("XDG_DATA_HOME", ".local/share"))
    """A site's state: database, keys, outbox, calibration."""
    cache_dir: Path = Field(default_factory=lambda: _xdg_dir("XDG_CACHE_HOME", ".cache"))
    """Converted models and other re-creatable files."""
    db_url: str | None = None
    """A PostgreSQL URL instead of the SQLite file in the data directory."""
    images: ImageLimits = Field(default_factory=ImageLimits)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    quality: QualityThresholds = Field(default_factory=QualityThresholds)
    matching: MatchSettings = Field(default_factory=lambda: MatchSettings())
    site_key: SecretStr | None = None
    """The site key (base64 of 32 bytes) instead of ``<data-dir>/site.key``; never logged."""
    retention: RetentionPolicy = Field(default_factory=lambda: RetentionPolicy())
    """Retention periods per data class, in days (see :mod:`facegate.domain.retention`)."""
    disclosures_visible_to_person: bool = True
    """Whether ``person export`` lists the disclosures to authorities about that person."""

    @property
    def database_path(self) -> Path:
        """The SQLite database file (meaningful when ``db_url`` is unset)."""
        return self.data_dir / DATABASE_FILE

    @property
    def database_url(self) -> str:
        """``db_url`` when set, else the SQLite file in the data directory."""
        return self.db_url or f"sqlite:///{self.database_path}"

    @property
    def site_key_path(self) -> Path:
        """Where ``facegate site init`` writes, and every command reads, the site key."""
        return self.data_dir / SITE_KEY_FILE

    @property
    def calibration_path(self) -> Path:
        """Where ``facegate calibrate`` writes and every command reads the threshold."""
        return self.data_dir / CALIBRATION_FILE

    def match_policy(self, model_id: str) -> tuple[MatchPolicy, str]:
        """The match policy in force for descriptors of ``model_id``, and its source.

        The threshold is the one set explicitly, else the calibration file's when it was
        made for ``model_id``, else :data:`DEFAULT_MATCH_THRESHOLD`.

        Returns:
            ``(policy, source)``; source is ``"settings"``, the calibration file's path,
            or ``"default"``.
        """
        margin = self.matching.min_margin
        if self.matching.threshold is not None:
            return MatchPolicy(self.matching.threshold, margin), "settings"
        calibration = read_calibration(self.calibration_path)
        if calibration is not None and calibration.model_id == model_id:
            return MatchPolicy(calibration.threshold, margin), str(self.calibration_path)
        return MatchPolicy(DEFAULT_MATCH_THRESHOLD, margin), "default"


def read_calibration(path: Path) -> Calibration | None:
    """Read a calibration file, ``None`` when absent.

    Raises:
        BadInputError: the file exists but is not a calibration facegate wrote.
    """
    if not path.is_file():
        return None
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(**raw)
    except (OSError, ValueError, TypeError) as err:
        raise BadInputError(f"{path}: not a valid calibration file ({err})") from err
    # The dataclass checks no types: a threshold of "0.5", null or NaN would otherwise
    # reach the matcher and fail there, far from the file.
    threshold = calibration.threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise BadInputError(f"{path}: not a valid calibration file (threshold {threshold!r})")
    return calibration


def write_calibration(path: Path, calibration: Calibration) -> None:
    """Write a calibration file atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".tmp{os.getpid()}")
    partial.write_text(json.dumps(asdict(calibration), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
