"""The passive texture cue's classifier: training, scoring, and its files.

An RBF support-vector machine on standardised :mod:`features` (Määttä et al. 2011 used
an RBF SVM on the same LBP descriptor). Its *score* is the logistic of the SVM's signed
margin: in (0, 1), higher is more live, monotone in the margin but not a calibrated
probability. The threshold is chosen at the equal-error point of *out-of-fold* scores:
the training set is split into subject-disjoint folds (3, or fewer subjects), each fold
scored by a model trained without it, so the threshold never sees a training score.

Files: the scikit-learn pipeline is written with joblib to the model path, and a JSON
manifest next to it (``<model>.json``) holds the format, the feature version, the
threshold, a summary of the training data and the model file's SHA-256. Loading checks
the manifest and the hash *before* unpickling, so a truncated, corrupt or swapped file is
refused with a clear error. A model file is code (pickle): load only files you trust.

scikit-learn and joblib are imported only by the functions that train, save or load a
model (about 100 MB and 0.7 s that a gate without a texture model never needs).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from facegate.domain.errors import BadInputError, DataSetError
from facegate.domain.liveness import equal_error_threshold, pad_rates
from facegate.files import write_atomically
from facegate.vision.liveness.features import (
    FEATURE_GROUPS,
    FEATURE_VERSION,
    FeatureGroup,
    group_slices,
)
from facegate.vision.models import file_sha256

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MODEL_FORMAT: Final = "facegate-liveness-texture/1"
"""Identity of the model file layout; stored in and checked from every manifest."""

SVM_C: Final = 10.0
"""The SVM's regularisation constant (scikit-learn's ``C``; default 10)."""

CANDIDATE_GROUPS: Final[tuple[tuple[FeatureGroup, ...], ...]] = (("scene",),)
"""Feature-group sets training chooses from, by out-of-fold ACER on the training data.

Only ``scene``, chosen by measurement on NUAA's training set (``bench/liveness_cv.py
--cross-session``): the LBP groups separate new people recorded in the training sessions
almost perfectly (subject-disjoint ACER 1.2-4.2 %) but fail on another session of the same
camera (30-44 %), and ``quality`` + ``scene`` falls to 5.4 % there where ``scene`` alone
keeps 4.0 %. Out-of-fold scores on the training sessions cannot see that difference, so
they are not asked to choose between those sets. None of these figures carries over to
sessions outside NUAA's training split: trained on all of it, the model scored ACER 47 %
(chance) on NUAA's test split (issue 13)."""


Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TextureManifest:
    """What a texture model file is, as written next to it in JSON.

    Attributes:
        format: :data:`MODEL_FORMAT`.
        feature_version: the :data:`FEATURE_VERSION` it was trained on.
        groups: the feature groups, in vector order.
        threshold: the liveness-score threshold (live when ``score >= threshold``).
        training: counts (bona fide, attacks, subjects, skipped) and out-of-fold rates.
        sha256: hex digest of the model file.
    """

    format: str
    feature_version: str
    groups: list[str]
    threshold: float
    training: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class TextureModel:
    """A trained texture classifier and its manifest."""

    pipeline: Pipeline
    manifest: TextureManifest

    @property
    def threshold(self) -> float:
        """The liveness-score threshold chosen at training."""
        return self.manifest.threshold

    @property
    def groups(self) -> tuple[FeatureGroup, ...]:
        """The feature groups the model reads."""
        return tuple(g for g in FEATURE_GROUPS if g in self.manifest.groups)

    def scores(self, features: Matrix) -> npt.NDArray[np.float64]:
        """Liveness scores in (0, 1) of an ``(n, d)`` feature matrix."""
        margin = np.asarray(self.pipeline.decision_function(np.atleast_2d(features)))
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)


def _pipeline(seed: int) -> Pipeline:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    svm = SVC(C=SVM_C, kernel="rbf", gamma="scale", class_weight="balanced", random_state=seed)
    return make_pipeline(StandardScaler(), svm)


def _folds(labels: npt.NDArray[np.int_], subjects: Sequence[str], seed: int) -> list[Any]:
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    distinct = sorted(set(subjects))
    dummy = np.zeros((labels.size, 1))
    if len(distinct) >= 2:
        groups = np.array([distinct.index(s) for s in subjects])
        splitter = GroupKFold(n_splits=min(3, len(distinct)))
        return list(splitter.split(dummy, labels, groups))
    stratified = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    return list(stratified.split(dummy, labels))


def out_of_fold_scores(
    features: Matrix, labels: npt.NDArray[np.int_], subjects: Sequence[str], seed: int = 0
) -> npt.NDArray[np.float64]:
    """Each sample's score from a model trained on the other (subject-disjoint) folds."""
    scores = np.zeros(labels.size)
    for train, test in _folds(labels, subjects, seed):
        if len(set(labels[train].tolist())) < 2:
            raise DataSetError("a training fold holds only one class; add more subjects")
        pipeline = _pipeline(seed).fit(features[train], labels[train])
        scores[test] = 1.0 / (1.0 + np.exp(-pipeline.decision_function(features[test])))
    return scores


def columns_of(groups: Sequence[FeatureGroup]) -> npt.NDArray[np.intp]:
    """Column indices of ``groups`` in a vector of all :data:`FEATURE_GROUPS`.

    The columns come in :data:`FEATURE_GROUPS` order whatever the order of ``groups``, as
    :attr:`TextureModel.groups` and :func:`texture_features` of those groups give them.
    """
    slices = group_slices(FEATURE_GROUPS)
    ordered = [g for g in FEATURE_GROUPS if g in groups]
    return np.concatenate([np.arange(slices[g].start, slices[g].stop) for g in ordered])


def _select(
    features: Matrix,
    labels: npt.NDArray[np.int_],
    subjects: Sequence[str],
    candidates: Sequence[tuple[FeatureGroup, ...]],
    seed: int,
) -> tuple[tuple[FeatureGroup, ...], float, dict[str, Any]]:
    """The candidate with the lowest out-of-fold ACER, its threshold and rates."""
    best: tuple[tuple[FeatureGroup, ...], float, dict[str, Any]] | None = None
    for groups in candidates:
        oof = out_of_fold_scores(features[:, columns_of(groups)], labels, subjects, seed)
        threshold = equal_error_threshold(oof[labels == 1], oof[labels == 0])
        rates = pad_rates(oof[labels == 1], oof[labels == 0], threshold)
        if best is None or rates.acer < best[2]["acer"] - 1e-9:
            best = (groups, threshold, {**rates.as_dict(), "acer": rates.acer})
    if best is None:
        raise ValueError("no candidate feature groups")
    return best


def train_texture_model(
    features: Matrix,
    labels: npt.NDArray[np.int_],
    subjects: Sequence[str],
    candidates: Sequence[tuple[FeatureGroup, ...]] = CANDIDATE_GROUPS,
    summary: dict[str, Any] | None = None,
    seed: int = 0,
) -> TextureModel:
    """Train the classifier (label 1 bona fide, 0 attack), its feature groups and threshold.

    Each candidate set of feature groups is scored out-of-fold on subject-disjoint folds
    of the training data; the one with the lowest ACER wins, its threshold is the
    equal-error point of those out-of-fold scores, and the final model is fitted on all
    the training data. Nothing outside ``features`` is looked at.

    Args:
        features: ``(n, d)`` vectors of :func:`texture_features` with *all* groups.
        labels: 1 for bona fide, 0 for attack.
        subjects: each sample's subject, for subject-disjoint folds.
        candidates: the feature-group sets to choose from (one to skip the choice).
        summary: training-data facts to keep in the manifest.
        seed: random seed.

    Raises:
        DataSetError: fewer than 6 samples of either class.
    """
    labels = np.asarray(labels, dtype=np.int_)
    counts = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    if min(counts) < 6:
        raise DataSetError(f"need at least 6 bona fide and 6 attack faces, got {counts}")
    groups, threshold, rates = _select(features, labels, subjects, candidates, seed)
    training = {
        **(summary or {}),
        "bona_fide": counts[0],
        "attacks": counts[1],
        "subjects": len(set(subjects)),
        "out_of_fold": rates,
    }
    pipeline = _pipeline(seed).fit(features[:, columns_of(groups)], labels)
    manifest = TextureManifest(MODEL_FORMAT, FEATURE_VERSION, list(groups), threshold, training)
    return TextureModel(pipeline, manifest)


def manifest_path(model_path: Path) -> Path:
    """Where the manifest of the model at ``model_path`` lives: ``<model>.json``."""
    return model_path.with_name(model_path.name + ".json")


def save_texture_model(model: TextureModel, path: Path) -> None:
    """Write the model to ``path`` and its manifest to ``<path>.json`` (each atomically)."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model.pipeline, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    manifest = TextureManifest(**{**asdict(model.manifest), "sha256": digest})
    write_atomically(path, data, mode=0o644)
    text = json.dumps(asdict(manifest), indent=2) + "\n"
    write_atomically(manifest_path(path), text.encode("utf-8"), mode=0o644)


def read_manifest(path: Path) -> TextureManifest:
    """Read and check the manifest of the model at ``path``.

    Raises:
        BadInputError: missing, unreadable, or not a manifest of a model this version reads.
    """
    source = manifest_path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        manifest = TextureManifest(**raw)
    except FileNotFoundError as err:
        raise BadInputError(f"{path}: no manifest {source.name} next to the model") from err
    except (OSError, ValueError, TypeError) as err:
        raise BadInputError(f"{source}: not a valid liveness model manifest ({err})") from err
    if manifest.format != MODEL_FORMAT:
        raise BadInputError(f"{source}: format {manifest.format!r}, expected {MODEL_FORMAT!r}")
    if manifest.feature_version != FEATURE_VERSION:
        raise BadInputError(
            f"{source}: trained on features {manifest.feature_version!r}, this version "
            f"computes {FEATURE_VERSION!r}; train the model again"
        )
    threshold = manifest.threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise BadInputError(f"{source}: threshold {threshold!r} is not a number")
    if not 0.0 <= threshold <= 1.0 or set(manifest.groups) - set(FEATURE_GROUPS):
        raise BadInputError(f"{source}: threshold or feature groups out of range")
    return manifest


def load_texture_model(path: Path) -> TextureModel:
    """Load a model written by :func:`save_texture_model`, checking it first.

    Raises:
        BadInputError: no such file, a bad manifest, a hash mismatch (corrupt or altered
            file), or a file that does not hold a scikit-learn pipeline.
    """
    import joblib
    from sklearn.pipeline import Pipeline

    if not path.is_file():
        raise BadInputError(f"{path}: no such liveness model file")
    manifest = read_manifest(path)
    if file_sha256(path) != manifest.sha256:
        raise BadInputError(f"{path}: does not match its manifest's SHA-256 (corrupt or altered)")
    try:
        pipeline = joblib.load(path)
    except (OSError, ValueError, EOFError, ImportError, AttributeError) as err:
        raise BadInputError(f"{path}: not a readable liveness model ({err})") from err
    if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "decision_function"):
        raise BadInputError(f"{path}: does not hold a liveness classifier")
    return TextureModel(pipeline, manifest)
