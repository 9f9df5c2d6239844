"""Is there a pulse to read in the shared live videos? (a remote-PPG feasibility probe).

A live face that holds still shows no motion a passive camera can use (docs/gate.md, "What
the still presentations hold"); blood does move under the skin, and remote
photoplethysmography reads it as a faint periodic colour change of the skin. This probe
measures whether that change is readable here before anything is built on it: per frame,
the mean RGB of the skin-coloured pixels of the face box's middle (dlib's HOG detector,
re-detected once a second), then per window the POS projection (Wang et al., "Algorithmic
principles of remote PPG", IEEE TBME 2017), its spectrum and the signal-to-noise ratio of
its strongest peak in 0.7-3 Hz (42-180 beats per minute): the power within 0.15 Hz of the
peak and its harmonic over the rest of the band, in dB (de Haan and Jeanne's SNR).

A readable pulse gives a steady rate over neighbouring windows and an SNR well above 0 dB;
noise gives rates that jump and peaks at the band's edge. Run::

    cd ../shared/data/video && python /path/to/bench/pulse_probe.py \
        webcam_one_person.mp4 talking_head.mp4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import dlib
import numpy as np
import numpy.typing as npt

BAND_HZ = (0.7, 3.0)
"""Pulse rates looked at (Hz): 42-180 beats per minute."""

PEAK_HALF_WIDTH_HZ = 0.15
"""What counts as the peak (and its harmonic) around its frequency (Hz)."""


def skin_means(path: Path) -> tuple[npt.NDArray[np.float64], float]:
    """Per frame, the mean RGB (0-255) of the face middle's skin pixels; and the frame rate."""
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    detector = dlib.get_frontal_face_detector()
    means: list[list[float]] = []
    box = None
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if box is None or index % max(round(fps), 1) == 0:
            found = detector(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), 0)
            box = found[0] if found else box
        index += 1
        if box is None:
            means.append([np.nan] * 3)
            continue
        means.append(_skin_mean(frame, box))
    capture.release()
    return np.array(means), fps


def _skin_mean(frame: npt.NDArray[np.uint8], box: dlib.rectangle) -> list[float]:
    """Mean RGB of the YCrCb skin pixels of the box's middle (15-75 % down, 20-80 % across)."""
    w, h = box.right() - box.left(), box.bottom() - box.top()
    top, left = max(box.top() + int(0.15 * h), 0), max(box.left() + int(0.2 * w), 0)
    middle = frame[top : box.top() + int(0.75 * h), left : box.right() - int(0.2 * w)]
    ycrcb = cv2.cvtColor(middle, cv2.COLOR_BGR2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    skin = (cr > 135) & (cr < 175) & (cb > 85) & (cb < 135)
    pixels = middle[skin] if skin.sum() > 50 else middle.reshape(-1, 3)
    return [float(v) for v in pixels.mean(axis=0)[::-1]]


def pos_peak(rgb: npt.NDArray[np.float64], fps: float) -> tuple[float, float]:
    """The POS pulse signal's strongest rate in the band (per minute) and its SNR (dB)."""
    normalised = rgb / rgb.mean(axis=0)
    projected = normalised @ np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]]).T
    first, second = projected[:, 0], projected[:, 1]
    pulse = first + first.std() / max(float(second.std()), 1e-9) * second
    pulse = (pulse - pulse.mean()) * np.hanning(len(pulse))
    power = np.abs(np.fft.rfft(pulse, 4096)) ** 2
    freqs = np.fft.rfftfreq(4096, 1.0 / fps)
    band = (freqs > BAND_HZ[0]) & (freqs < BAND_HZ[1])
    peak = float(freqs[band][power[band].argmax()])
    near = (np.abs(freqs - peak) < PEAK_HALF_WIDTH_HZ) | (
        np.abs(freqs - 2 * peak) < PEAK_HALF_WIDTH_HZ
    )
    signal, noise = power[band & near].sum(), power[band & ~near].sum()
    return peak * 60.0, float(10.0 * np.log10(signal / max(noise, 1e-12)))


def windows(rgb: npt.NDArray[np.float64], fps: float, seconds: float) -> list[dict[str, float]]:
    """The peak and SNR of every window of ``seconds``, one starting each second."""
    found = []
    for start in range(int(len(rgb) / fps - seconds) + 1):
        part = rgb[int(start * fps) : int((start + seconds) * fps)]
        if len(part) < seconds * fps * 0.9 or np.isnan(part).any():
            continue
        rate, snr = pos_peak(part, fps)
        found.append({"start_s": start, "per_min": round(rate, 1), "snr_db": round(snr, 1)})
    return found


def summary(found: list[dict[str, float]]) -> dict[str, float]:
    """How steady and how strong the windows' peaks are (only a count without windows)."""
    if not found:
        return {"windows": 0}
    snr = np.array([w["snr_db"] for w in found])
    rate = np.array([w["per_min"] for w in found])
    at_edge = int(np.sum(rate < BAND_HZ[0] * 60.0 + 1.0))
    steps = np.abs(np.diff(rate)) if len(rate) > 1 else np.array([0.0])
    return {
        "windows": len(found),
        "snr_db_median": round(float(np.median(snr)), 1),
        "snr_db_max": round(float(snr.max()), 1),
        "above_3_db": int(np.sum(snr > 3.0)),
        "peak_at_band_edge": at_edge,
        "rate_step_median_per_min": round(float(np.median(steps)), 1),
    }


def main() -> None:
    """Print each video's window summaries as JSON (``--each``: every window too)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--seconds", type=float, nargs="+", default=[3.0, 6.0, 10.0])
    parser.add_argument("--each", action="store_true", help="print every window too")
    args = parser.parse_args()
    report: dict[str, dict[str, object]] = {}
    for video in args.videos:
        rgb, fps = skin_means(video)
        report[video.name] = {}
        for seconds in args.seconds:
            found = windows(rgb, fps, seconds)
            entry: dict[str, object] = {"summary": summary(found)}
            if args.each:
                entry["each"] = found
            report[video.name][f"{seconds:g}_s"] = entry
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
