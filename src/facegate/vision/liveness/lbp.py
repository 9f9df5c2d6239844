"""Local binary patterns (Ojala et al. 2002) in vectorised numpy.

``LBP(P, R)`` compares each pixel with ``P`` neighbours on a circle of radius ``R``
pixels (bilinear interpolation off the grid): bit ``p`` is set when neighbour ``p`` is
at least the centre. Neighbour ``p`` sits at angle ``2 pi p / P`` counter-clockwise from
the positive x axis (x right, y down in the image, so ``p = 2`` of ``P = 8`` is the
pixel *above*). The ``u2`` mapping gives each *uniform* pattern (at most two 0/1
transitions around the circle) its own label, in increasing code order, and all other
patterns one last label: 59 labels for ``P = 8``, 243 for ``P = 16``.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float64]
Labels = npt.NDArray[np.intp]


def uniform_label_count(points: int) -> int:
    """Number of ``u2`` labels of ``LBP(points, .)``: ``P (P - 1) + 3``."""
    return points * (points - 1) + 3


@functools.cache
def uniform_table(points: int) -> Labels:
    """The ``u2`` label of every ``points``-bit code (computed once per ``points``)."""
    codes = np.arange(2**points, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(points)) & 1
    transitions = np.sum(bits != np.roll(bits, 1, axis=1), axis=1)
    uniform = transitions <= 2
    table = np.full(codes.size, uniform_label_count(points) - 1, dtype=np.intp)
    table[uniform] = np.arange(int(uniform.sum()))
    table.setflags(write=False)
    return table


def _sample(
    padded: FloatImage, dy: float, dx: float, pad: int, shape: tuple[int, int]
) -> FloatImage:
    """``padded`` shifted by ``(dy, dx)``, bilinear, cropped to the unpadded ``shape``."""
    height, width = shape
    y0, x0 = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - y0, dx - x0
    top, left = pad + y0, pad + x0

    def window(oy: int, ox: int) -> FloatImage:
        return padded[top + oy : top + oy + height, left + ox : left + ox + width]

    return (
        (1 - fy) * (1 - fx) * window(0, 0)
        + (1 - fy) * fx * window(0, 1)
        + fy * (1 - fx) * window(1, 0)
        + fy * fx * window(1, 1)
    )


def lbp_codes(grey: npt.ArrayLike, points: int, radius: float) -> Labels:
    """Raw LBP codes of every pixel whose circle lies inside the image.

    Args:
        grey: a 2-D grey image (any numeric type).
        points: neighbours ``P`` (8 or 16 typically).
        radius: circle radius ``R`` in pixels.

    Returns:
        An ``(H - 2c, W - 2c)`` array of codes in ``[0, 2**P)``, ``c = ceil(R)``.
    """
    image = np.asarray(grey, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"LBP needs a 2-D grey image, got shape {image.shape}")
    border = int(np.ceil(radius))
    inner = (image.shape[0] - 2 * border, image.shape[1] - 2 * border)
    if min(inner) < 1:
        raise ValueError(f"image {image.shape} too small for LBP radius {radius}")
    padded = np.pad(image, 1, mode="edge")
    centre = image[border : border + inner[0], border : border + inner[1]]
    codes = np.zeros(inner, dtype=np.intp)
    for p in range(points):
        angle = 2.0 * np.pi * p / points
        dy, dx = round(-radius * np.sin(angle), 9), round(radius * np.cos(angle), 9)
        neighbour = _sample(padded, dy, dx, border + 1, inner)
        # A tolerance keeps interpolation round-off of equal pixels on the ">=" side.
        codes |= (neighbour >= centre - 1e-9).astype(np.intp) << p
    return codes


def uniform_lbp(grey: npt.ArrayLike, points: int, radius: float) -> Labels:
    """``u2`` labels of :func:`lbp_codes` (in ``[0, uniform_label_count(points))``)."""
    return uniform_table(points)[lbp_codes(grey, points, radius)]


def label_histogram(labels: Labels, bins: int) -> FloatImage:
    """Normalised histogram (sums to 1) of ``labels`` in ``[0, bins)``."""
    counts = np.bincount(labels.ravel(), minlength=bins).astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def grid_histograms(labels: Labels, bins: int, grid: int) -> FloatImage:
    """Concatenated normalised histograms of a ``grid x grid`` split of ``labels``."""
    rows = np.array_split(np.arange(labels.shape[0]), grid)
    cols = np.array_split(np.arange(labels.shape[1]), grid)
    parts = [
        label_histogram(labels[r[0] : r[-1] + 1, c[0] : c[-1] + 1], bins)
        for r in rows
        for c in cols
    ]
    return np.concatenate(parts)
