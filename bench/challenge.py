"""Challenge mode against replayed live videos, and for compliant live faces.

    .venv/bin/python bench/challenge.py [--data ../shared/data] [--trials 2000]
        [--fps 25,5] [--json]

Every frame of ``video/webcam_one_person.mp4`` (a person turning the head, 53 s) and
``video/talking_head.mp4`` (blinks and speech, 8 s) becomes a
:class:`facegate.domain.challenge.PoseSample` (dlib face box, FaceMesh head pose, eyes and
mouth; cached under /tmp). ``--fps`` also runs everything on every n-th frame only: a
kiosk posts frames at a few per second (each answered before the next is sent), not 25.

- **Replay**: a recorded video replayed at the kiosk does whatever it does. For each
  number of prompts ``k`` (1-5), ``--trials`` challenges start at a random time of a
  random video (long enough for ``k`` prompts) with ``k`` random prompts; the share that
  pass is the chance that a replay passes, with its Clopper-Pearson 95 % upper bound.
- **Compliant**: moments of the videos where a move really happens serve as a live
  person following a prompt. A *segment* of a move starts every 0.2 s at which, within
  ``response_s``, that move happens by **independent labels**
  (``bench/challenge_labels.py``: dlib's 68 points, head pose in degrees by solvePnP,
  eye and inner-mouth aspect ratios, thresholds fixed beforehand: turn 30 degrees, look
  up 20 degrees, eyes below 0.20, mouth to 0.50). A one-prompt challenge (FaceMesh
  measures) starts there; the share of each move's segments that pass is its success,
  and the success of ``k`` prompts is estimated as the mean success to the power ``k``
  (prompts are independent draws). The old labels (the same FaceMesh measures at 1.5
  times the thresholds: circular, they test the timing rules only) are printed beside
  them as ``compliant_same_measures``.
- **Prompts needed**: the fewest prompts whose replay bound is at most 1 % and whose
  compliant estimate is at least 95 %, per frame rate (``null`` when none is).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.challenge import (
    HEAD_MOVES,
    Challenge,
    ChallengeSettings,
    PoseSample,
    Prompt,
    draw_prompts,
    median_pose,
    moves_shown,
)
from facegate.domain.metrics import binomial_upper_bound
from facegate.vision.liveness.challenge_pose import pose_sample
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.video import detect_faces, read_frames, video_fps

sys.path.insert(0, str(Path(__file__).resolve().parent))
import challenge_labels

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VIDEOS = ("webcam_one_person.mp4", "talking_head.mp4")
CACHE = Path("/tmp/facegate-challenge")
SETTINGS = ChallengeSettings()
LABEL_MARGIN = 1.5
SEGMENT_STEP_S = 0.2


def samples_of(path: Path) -> list[PoseSample]:
    cached = CACHE / f"{path.stem}.npy"
    if cached.is_file():
        return [PoseSample(*row[:1], int(row[1]), *row[2:]) for row in np.load(cached)]
    engine, mesh, fps = build_engine(Settings()), FaceMeshModel(), video_fps(path)
    out, start = [], 0
    while True:
        try:
            images = read_frames(path, 100, start)
        except Exception:  # the end of the video
            break
        for offset, face in enumerate(detect_faces(engine, images)):
            if face is not None:
                sample = pose_sample(mesh, face, (start + offset) / fps, 0)
                if sample is not None:
                    out.append(sample)
        start += len(images)
        if len(images) < 100:
            break
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, np.array([astuple(s) for s in out], dtype=np.float64))
    print(f"{path.name}: {len(out)} samples", file=sys.stderr)
    return out


def run(
    samples: list[PoseSample],
    prompts: tuple[Prompt, ...],
    start_s: float,
    settings: ChallengeSettings,
) -> bool:
    challenge = Challenge(prompts, settings, start_s)
    for sample in samples:
        if sample.time_s < start_s - settings.reference_s:
            continue
        if challenge.observe(sample) != "pending":
            break
    return challenge.status == "passed"


def replay(videos: dict[str, list[PoseSample]], trials: int, seed: int) -> dict[str, dict]:
    rng = random.Random(seed)
    result = {}
    for k in range(1, 6):
        settings = replace(SETTINGS, prompts=k)
        usable = [v for v in videos.values() if v[-1].time_s > k * settings.response_s + 1.0]
        passed = 0
        for _ in range(trials):
            samples = rng.choice(usable)
            latest = samples[-1].time_s - k * settings.response_s
            start = rng.uniform(settings.reference_s, latest)
            passed += run(samples, draw_prompts(rng, k, settings.choices), start, settings)
        result[str(k)] = {
            "trials": trials,
            "passed": passed,
            "rate": passed / trials,
            "upper_95": binomial_upper_bound(passed, trials),
        }
    return result


Labeller = Callable[[str, Prompt, float], bool]
"""Whether, in the named video, a prompt's move really happens in the response time
after a start (seconds)."""


def compliant(videos: dict[str, list[PoseSample]], shows: Labeller) -> dict[str, dict]:
    """Per prompt: segments where its move really happens, and how many pass the challenge."""
    result = {}
    one = replace(SETTINGS, prompts=1)
    for prompt in SETTINGS.choices:
        segments, passed = 0, 0
        for name, samples in videos.items():
            for start in np.arange(0.5, samples[-1].time_s - SETTINGS.response_s, SEGMENT_STEP_S):
                if not shows(name, prompt, float(start)):
                    continue
                segments += 1
                passed += run(samples, (prompt,), float(start), one)
        result[prompt.value] = {
            "segments": segments,
            "passed": passed,
            "rate": passed / segments if segments else None,
        }
    return result


def independent_labels(data: Path, level: challenge_labels.Level) -> Labeller:
    """Labels from dlib's 68 points at ``level`` (``bench/challenge_labels.py``)."""
    measures = {n: challenge_labels.measures_of(data / "video" / n, CACHE) for n in VIDEOS}
    fps = {n: video_fps(data / "video" / n) for n in VIDEOS}

    def shows(name: str, prompt: Prompt, start: float) -> bool:
        return challenge_labels.shows(
            measures[name],
            fps[name],
            prompt.value,
            start,
            SETTINGS.reference_s,
            SETTINGS.response_s,
            level,
        )

    return shows


def same_measure_labels(videos: dict[str, list[PoseSample]]) -> Labeller:
    """The earlier, circular labels: the challenge's own measures at 1.5 times its thresholds."""
    strict = replace(
        SETTINGS,
        prompts=1,
        turn=SETTINGS.turn * LABEL_MARGIN,
        look_up=SETTINGS.look_up * LABEL_MARGIN,
        blink=min(SETTINGS.blink * LABEL_MARGIN, 0.95),
        open_mouth=SETTINGS.open_mouth * LABEL_MARGIN,
    )

    def shows(name: str, prompt: Prompt, start: float) -> bool:
        samples = videos[name]
        before = [s for s in samples if start - strict.reference_s <= s.time_s < start]
        after = [s for s in samples if start <= s.time_s <= start + strict.response_s]
        if not before or not after:
            return False
        reference = median_pose(before, start)
        return any(prompt in moves_shown(s, reference, strict) for s in after)

    return shows


def every_nth(samples: list[PoseSample], fps: float, video_fps_: float) -> list[PoseSample]:
    """The samples of the frames a kiosk at ``fps`` frames per second would have sent."""
    step = max(round(video_fps_ / fps), 1)
    return [s for s in samples if round(s.time_s * video_fps_) % step == 0]


def _summary(replayed: dict[str, dict], live: dict[str, dict]) -> dict[str, object]:
    rates = [v["rate"] for v in live.values() if v["rate"] is not None]
    unmeasured = [name for name, v in live.items() if v["rate"] is None]
    mean = float(np.mean(rates)) if rates else 0.0
    estimate = {str(k): mean**k for k in range(1, 6)}
    needed = next(
        (
            k
            for k in range(1, 6)
            if replayed[str(k)]["upper_95"] <= 0.01 and estimate[str(k)] >= 0.95
        ),
        None,
    )
    # A prompt with no labelled segment has no success figure: no claim then.
    return {
        "compliant_estimate": estimate,
        "unmeasured": unmeasured,
        "prompts_needed": None if unmeasured else needed,
    }


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Every figure, per frame rate."""
    full = {name: samples_of(args.data / "video" / name) for name in VIDEOS}
    rates = {name: video_fps(args.data / "video" / name) for name in VIDEOS}
    levels = {
        name: independent_labels(args.data, level)
        for name, level in challenge_labels.LEVELS.items()
    }
    result: dict[str, object] = {
        "settings": {
            "response_s": SETTINGS.response_s,
            "turn": SETTINGS.turn,
            "look_up": SETTINGS.look_up,
            "blink": SETTINGS.blink,
            "open_mouth": SETTINGS.open_mouth,
            "choices": [p.value for p in SETTINGS.choices],
        },
    }
    for fps in args.fps:
        videos = {n: every_nth(full[n], fps, rates[n]) for n in VIDEOS}
        replayed = replay(videos, args.trials, args.seed)
        block: dict[str, object] = {"replay_pass": replayed}
        for name, labels in levels.items():
            live = compliant(videos, labels)
            block[name] = {"compliant_per_prompt": live, **_summary(replayed, live)}
        block["same_measures"] = {
            "compliant_per_prompt": compliant(videos, same_measure_labels(videos))
        }
        result[f"fps_{fps:g}"] = block
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fps",
        type=lambda text: [float(v) for v in text.split(",")],
        default=[25.0, 5.0],
        help="frame rates to measure at (comma-separated; the videos are 25 frames/s)",
    )
    parser.add_argument(
        "--choices",
        type=lambda text: tuple(Prompt(v) for v in text.split(",")),
        default=HEAD_MOVES,
        help="the moves prompts are drawn from (comma-separated; default: the shipped "
        "head moves turn_left,turn_right,look_up)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    global SETTINGS
    SETTINGS = replace(SETTINGS, choices=args.choices)
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, block in result.items():
        if not key.startswith("fps_"):
            continue
        assert isinstance(block, dict)
        print(f"== {key.removeprefix('fps_')} frames/s")
        print(" k  replay passes (rate, 95% upper)")
        for k in range(1, 6):
            r = block["replay_pass"][str(k)]
            print(f"{k:2}  {r['passed']:5}/{r['trials']} ({r['rate']:.4f}, {r['upper_95']:.4f})")
        for name in (*challenge_labels.LEVELS, "same_measures"):
            labelled = block[name]
            rows = labelled["compliant_per_prompt"]
            cells = "  ".join(f"{p} {r['passed']}/{r['segments']}" for p, r in rows.items())
            print(f"compliant, {name} labels: {cells}")
            if "prompts_needed" in labelled:
                estimate = labelled["compliant_estimate"]
                print(
                    f"   estimate k=1..5 {[round(v, 3) for v in estimate.values()]},"
                    f" prompts needed {labelled['prompts_needed']}"
                )


if __name__ == "__main__":
    main()
