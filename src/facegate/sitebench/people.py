"""Which real people are residents, which strangers, and what each presents."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facegate.sitebench.corpus import NUAA_STRANGERS, Corpus, RealPerson
from facegate.vision.engine import FaceEngine

Vectors = dict[str, npt.NDArray[np.float32]]


@dataclass
class Cast:
    """The real people of a bench run and their descriptors.

    Attributes:
        video: video people (presented with the liveness check on).
        photos: photo people (presented only with liveness off).
        residents: names of the real people enrolled, to their building index.
        vectors: descriptor of each image key that has one.
        refused: people whose enrolment was refused as a duplicate (strangers then).
    """

    video: list[RealPerson]
    photos: list[RealPerson]
    residents: dict[str, int] = field(default_factory=dict)
    vectors: Vectors = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def enrol_keys(self, person: RealPerson) -> list[str]:
        """Up to three keys (spread over the person's enrolment images) that have a face."""
        usable = [k for k in person.enrol if k in self.vectors]
        if len(usable) <= 3:
            return usable
        return [usable[round(i)] for i in np.linspace(0, len(usable) - 1, 3)]

    def groups(self) -> dict[str, npt.NDArray[np.float32]]:
        """Each real person's descriptors (enrolment and presentation images alike)."""
        grouped = {}
        for person in (*self.video, *self.photos):
            keys = [*person.enrol, *(c[0] for c in person.probes)]
            rows = [self.vectors[k] for k in keys if k in self.vectors]
            if rows:
                grouped[person.name] = np.stack(rows)
        return grouped

    def stranger_vectors(self) -> npt.NDArray[np.float32]:
        """The descriptors of every presentation image of the strangers (real people)."""
        rows = [
            self.vectors[clip[0]]
            for person in (*self.video, *self.photos)
            if person.name not in self.residents
            for clip in person.probes
            if clip[0] in self.vectors
        ]
        return np.stack(rows) if rows else np.empty((0, 128), np.float32)


def cast(corpus: Corpus, engine: FaceEngine, step: int, clip_frames: int, buildings: int) -> Cast:
    """Describe the real people; half the photo people and the two-session videos live here.

    Photo people: every other one (by name) is a resident enrolled from their first three
    photos with a face, presented with the others; video people: the webcam person, the
    talking head and the NUAA subjects with two sessions are residents.
    """
    video = corpus.video_people(step, clip_frames)
    photos = corpus.photo_people()
    keys = [k for p in video for k in (*p.enrol, *(c[0] for c in p.probes))]
    keys += [c[0] for p in photos for c in p.probes]
    result = Cast(video, photos, vectors=corpus.descriptors(engine, keys))
    stranger_videos = {f"nuaa/{s}" for s in NUAA_STRANGERS}
    video_residents = [p for p in video if p.name not in stranger_videos]
    for i, person in enumerate(video_residents):
        if result.enrol_keys(person):
            result.residents[person.name] = i % buildings
    for i, person in enumerate(photos[::2]):
        with_face = [c[0] for c in person.probes if c[0] in result.vectors]
        if len(with_face) >= 4:
            person.enrol = with_face[:3]
            person.probes = [[k] for k in with_face[3:]]
            result.residents[person.name] = (i + 1) % buildings
    return result
