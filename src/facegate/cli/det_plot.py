"""Draw a DET curve (FNMR against FMR, both on log scales) as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facegate.domain.errors import BadInputError
from facegate.domain.metrics import Scores, error_curve


def write_det_png(
    genuine: Scores, impostor: Scores, path: Path, title: str, threshold: float
) -> None:
    """Write the DET curve of the scores to ``path``, marking the operating threshold.

    Raises:
        BadInputError: the PNG cannot be written there.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = error_curve(genuine, impostor)
    # A rate of zero has no place on a log axis: such points are drawn at half the
    # smallest rate the comparisons can show, the axis's lower edge.
    fmr_floor, fnmr_floor = 0.5 / impostor.size, 0.5 / genuine.size
    fmr, fnmr = np.maximum(curve.fmr, fmr_floor), np.maximum(curve.fnmr, fnmr_floor)
    figure, axes = plt.subplots(figsize=(6, 5), dpi=110)
    try:
        axes.loglog(fmr, fnmr, drawstyle="steps-post")
        at = int(np.searchsorted(curve.thresholds, threshold, side="right")) - 1
        at = min(max(at, 0), curve.thresholds.size - 1)
        axes.plot(fmr[at], fnmr[at], "o", label=f"threshold {threshold:.3f}")
        axes.set_xlim(fmr_floor, 1.0)
        axes.set_ylim(fnmr_floor, 1.0)
        axes.set_xlabel(f"false-match rate (FMR), {impostor.size} impostor comparisons")
        axes.set_ylabel(f"false non-match rate (FNMR), {genuine.size} genuine")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    except OSError as err:
        raise BadInputError(f"{path}: cannot write the DET curve ({err})") from err
    finally:
        plt.close(figure)
