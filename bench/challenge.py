"""Challenge mode against replayed live videos, and for compliant live faces.

    .venv/bin/python bench/challenge.py [--data ../shared/data] [--trials 2000] [--json]

Every frame of ``video/webcam_one_person.mp4`` (a person turning the head, 53 s) and
``video/talking_head.mp4`` (blinks and speech, 8 s) becomes a
:class:`facegate.domain.challenge.PoseSample` (dlib face box, FaceMesh head pose, eyes and
mouth; cached under /tmp).

- **Replay**: a recorded video replayed at the kiosk does whatever it does. For each
  number of prompts ``k`` (1-5), ``--trials`` challenges start at a random time of a
  random video (long enough for ``k`` prompts) with ``k`` random prompts; the share that
  pass is the chance that a replay passes, with its rule-of-3 / Clopper-Pearson bound.
- **Compliant**: moments of the videos where a move really happens serve as a live
  person following a prompt. A *segment* of a move starts every 0.2 s at which, within
  ``response_s``, that move shows at 1.5 times its threshold (the labels come from the
  same FaceMesh measures at a stricter margin, not from a person's hand: the figure tests
  the timing and reference rules, not the measures' sensitivity). A
  one-prompt challenge starts there; the share of each move's segments that pass is its
  success, and the success of ``k`` prompts is estimated as the mean success to the
  power ``k`` (prompts are independent draws).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.challenge import (
    Challenge,
    ChallengeSettings,
    PoseSample,
    Prompt,
    draw_prompts,
)
from facegate.domain.metrics import binomial_upper_bound
from facegate.vision.liveness.challenge_pose import pose_sample
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.video import detect_faces, read_frames, video_fps

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
            passed += run(samples, draw_prompts(rng, k), start, settings)
        result[str(k)] = {
            "trials": trials,
            "passed": passed,
            "rate": passed / trials,
            "upper_95": binomial_upper_bound(passed, trials),
        }
    return result


def compliant(videos: dict[str, list[PoseSample]]) -> dict[str, dict]:
    strict = replace(
        SETTINGS,
        prompts=1,
        turn=SETTINGS.turn * LABEL_MARGIN,
        look_up=SETTINGS.look_up * LABEL_MARGIN,
        blink=min(SETTINGS.blink * LABEL_MARGIN, 0.95),
        open_mouth=SETTINGS.open_mouth * LABEL_MARGIN,
    )
    result = {}
    for prompt in Prompt:
        segments, passed = 0, 0
        for samples in videos.values():
            for start in np.arange(0.5, samples[-1].time_s - SETTINGS.response_s, SEGMENT_STEP_S):
                if not _shows(samples, prompt, float(start), strict):
                    continue
                segments += 1
                passed += run(samples, (prompt,), float(start), replace(SETTINGS, prompts=1))
        result[prompt.value] = {
            "segments": segments,
            "passed": passed,
            "rate": passed / segments if segments else None,
        }
    return result


def _shows(
    samples: list[PoseSample], prompt: Prompt, start: float, strict: ChallengeSettings
) -> bool:
    """Whether ``prompt``'s move shows at the strict margin within the response time."""
    from facegate.domain.challenge import median_pose, moves_shown

    before = [s for s in samples if start - strict.reference_s <= s.time_s < start]
    after = [s for s in samples if start <= s.time_s <= start + strict.response_s]
    if not before or not after:
        return False
    reference = median_pose(before, start)
    return any(prompt in moves_shown(s, reference, strict) for s in after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    videos = {name: samples_of(args.data / "video" / name) for name in VIDEOS}
    replayed = replay(videos, args.trials, args.seed)
    live = compliant(videos)
    rates = [v["rate"] for v in live.values() if v["rate"] is not None]
    mean = float(np.mean(rates)) if rates else 0.0
    result = {
        "settings": {
            k: v
            for k, v in zip(
                ("response_s", "turn", "look_up", "blink", "open_mouth"),
                (
                    SETTINGS.response_s,
                    SETTINGS.turn,
                    SETTINGS.look_up,
                    SETTINGS.blink,
                    SETTINGS.open_mouth,
                ),
                strict=True,
            )
        },
        "replay_pass": replayed,
        "compliant_per_prompt": live,
        "compliant_estimate": {str(k): mean**k for k in range(1, 6)},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(" k  replay passes (rate, 95% upper)   compliant estimate")
    for k in range(1, 6):
        r = replayed[str(k)]
        print(
            f"{k:2}  {r['passed']:5}/{r['trials']} ({r['rate']:.4f}, {r['upper_95']:.4f})"
            f"      {result['compliant_estimate'][str(k)]:.3f}"
        )
    for name, row in live.items():
        print(
            f"{name:11} segments {row['segments']:4}  passed {row['passed']:4}  rate {row['rate']}"
        )


if __name__ == "__main__":
    main()
