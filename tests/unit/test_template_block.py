"""Where a block of decrypted templates holds the templates an index names."""

from __future__ import annotations

import numpy as np

from facegate.services.template_cache import TemplateBlock


def block() -> TemplateBlock:
    return TemplateBlock(("t1", "t2", "t3"), ["p1", "p1", "p2"], np.zeros((3, 128), np.float32))


def test_an_index_of_exactly_the_held_templates_in_order_is_found_row_by_row() -> None:
    assert block().positions([("t1", "p1"), ("t2", "p1"), ("t3", "p2")]) == ([0, 1, 2], [])


def test_positions_of_a_reordered_moved_or_new_entry() -> None:
    index = [("t3", "p2"), ("t1", "p9"), ("t4", "p3")]  # held; held as another's; not held
    assert block().positions(index) == ([2, -1, -1], [("t1", "p9"), ("t4", "p3")])
    same_length = [("t1", "p1"), ("t2", "p2"), ("t3", "p2")]  # t2 held as p1's, not p2's
    assert block().positions(same_length) == ([0, -1, 2], [("t2", "p2")])
