"""The bench's bulk fill writes what the services write for a resident, in batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facegate.bootstrap import SystemClock, build_sealer, build_store, ensure_site_key
from facegate.config import Settings
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import SiteMode
from facegate.services import places, site_admin
from facegate.services.context import ServiceContext
from facegate.services.identification import load_gallery
from facegate.services.snapshots import build_snapshot
from facegate.sitebench import population

MODEL = "dlib-resnet-v1"


def test_the_bulk_fill_enrols_sealed_templates_cards_and_rules_batch_by_batch(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "site")
    store = build_store(settings, migrate=True)
    ensure_site_key(settings)
    context = ServiceContext(store=store, clock=SystemClock(), actor="test")
    site_admin.init_site(context, "Bench Court", "UTC")
    layout = population.build_layout(context)
    fill = np.random.default_rng(0).normal(0, 0.1, (5, 3, 128)).astype(np.float32)
    done: list[int] = []
    sealer = build_sealer(settings)
    residents = population.add_fill(context, sealer, MODEL, layout, fill, done.append, batch=2)
    assert done == [2, 4, 5]
    assert [r.building for r in residents] == [0, 1, 2, 3, 0]
    gallery = load_gallery(context, sealer, MODEL)
    for resident, templates in zip(residents, fill, strict=True):
        distance = gallery.person_distance(templates[0], resident.person_id)
        assert distance < 1e-5  # its own sealed templates, decrypted again
    door = layout.doors[1][0]
    policy = MatchPolicy(0.57, 0.06)
    snapshot = build_snapshot(context, sealer, door, MODEL, policy, SiteMode.NORMAL)
    cards = dict(snapshot.access.cards)
    assert cards == {population.card_of("Fill 00001"): residents[1].person_id}
    assert places.may_pass(context, residents[1].person_id, door).value == "granted"
    assert places.may_pass(context, residents[0].person_id, door).value != "granted"
    store.close()
