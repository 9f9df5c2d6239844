"""Suite prints lose what ink and paper lose: gamut, white and black, dots, focus, hand."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from facegate.vision.liveness.synthetic import Camera, Pose, Surface, render_surface
from facegate.vision.liveness.synthetic_print import (
    PRINT_PX_PER_PHOTO_PX,
    PrintLook,
    ink_on_paper,
    make_sheet,
    sheen_at,
)

LOOK = replace(
    PrintLook.draw(np.random.default_rng(0)),
    chroma_scale=0.7,
    chroma_max=45.0,
    paper_white=92.0,
    paper_tint=(0.0, 4.0),
    ink_black=20.0,
    dot_gain=1.15,
    sharpen=0.0,
    halftone="screen",
    dot_period_camera_px=0.5,
    gloss=0.0,
    margin=0.1,
    hand="",
)


def lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def patches() -> np.ndarray:
    """A photo of four flat patches: white, black, saturated red, skin."""
    photo = np.zeros((40, 40, 3), dtype=np.uint8)
    photo[:20, :20] = (255, 255, 255)
    photo[:20, 20:] = (0, 0, 0)
    photo[20:, :20] = (220, 30, 30)
    photo[20:, 20:] = (224, 172, 150)
    return photo


def patch_means(printed: np.ndarray) -> list[np.ndarray]:
    """Mean CIELAB of each patch's inner half (away from the patch borders), print pixels."""
    f = PRINT_PX_PER_PHOTO_PX
    means = []
    for top, left in ((0, 0), (0, 20), (20, 0), (20, 20)):
        inner = printed[(top + 5) * f : (top + 15) * f, (left + 5) * f : (left + 15) * f]
        means.append(lab(inner).reshape(-1, 3).mean(axis=0))
    return means


def test_the_look_is_drawn_reproducibly_within_printing_ranges() -> None:
    first = PrintLook.draw(np.random.default_rng(4))
    assert first == PrintLook.draw(np.random.default_rng(4))
    looks = [PrintLook.draw(np.random.default_rng(seed)) for seed in range(60)]
    assert all(0.5 < look.chroma_scale < 0.95 for look in looks)
    assert all(look.ink_black >= 12.0 and look.paper_white <= 96.0 for look in looks)
    # The sheet's sharpness is drawn apart from the room's: both orders occur.
    assert any(look.focus_sigma_px > look.room_sigma_px for look in looks)
    assert any(look.focus_sigma_px < look.room_sigma_px - 1.0 for look in looks)
    assert {look.hand for look in looks} == {"left", "right", "bottom", ""}
    assert {look.halftone for look in looks} == {"screen", "dither"}


def test_ink_on_paper_has_no_true_white_or_black_and_a_smaller_gamut() -> None:
    printed = ink_on_paper(patches(), LOOK, 4.0, np.random.default_rng(1))
    assert printed.shape == (40 * PRINT_PX_PER_PHOTO_PX, 40 * PRINT_PX_PER_PHOTO_PX, 3)
    white, black, red, skin = patch_means(printed)
    assert white[0] == pytest.approx(LOOK.paper_white, abs=3.0)
    assert white[2] > 2.0  # the paper's warm tint
    assert black[0] == pytest.approx(LOOK.ink_black, abs=4.0)
    photo_lab = [lab(patches()[r : r + 1, c : c + 1])[0, 0] for r, c in ((20, 0), (20, 20))]
    for printed_lab, original in zip((red, skin), photo_lab, strict=True):
        assert np.hypot(*printed_lab[1:]) < 0.8 * np.hypot(*original[1:])
    assert skin[1] < photo_lab[1][1]  # a paler, less red face


def test_a_clustered_screen_prints_mid_tones_as_dots_that_average_to_the_tone() -> None:
    grey = np.full((30, 30, 3), 128, dtype=np.uint8)
    dots = ink_on_paper(grey, LOOK, 6.0, np.random.default_rng(2)).astype(float)
    smooth = ink_on_paper(
        grey, replace(LOOK, halftone="dither"), 6.0, np.random.default_rng(2)
    ).astype(float)
    assert dots.std() > 3.0 * smooth.std()  # dots and paper between them
    assert abs(dots.mean() - smooth.mean()) < 12.0


def test_the_sheet_has_a_paper_margin_and_a_hand_beyond_its_edge() -> None:
    photo = np.full((50, 40, 3), 100, dtype=np.uint8)
    look = replace(LOOK, hand="left", hand_at=0.5)
    sheet = make_sheet(photo, 20.0, look, 0.5, np.random.default_rng(3))
    x, y = sheet.offset
    assert sheet.texture.shape[:2] == sheet.alpha.shape == sheet.plain.shape[:2]
    margin = sheet.texture[y - 1, x + 5].astype(float)
    assert margin.min() > 200  # paper, not black
    assert sheet.alpha[y - 1, x + 5] == 255
    # The hand: covered pixels left of the paper, skin coloured (red over blue).
    row = sheet.texture.shape[0] // 2
    outside = slice(0, x - round(look.margin * max(photo.shape[:2]) * sheet.px_per_photo_px))
    covered = sheet.alpha[row, outside] == 255
    assert covered.any()
    skin = sheet.texture[row, outside][covered].astype(float)
    assert (skin[:, 0] > skin[:, 2]).all()
    assert (sheet.alpha[0, : x // 2] == 0).any()  # the room shows around the hand
    corners = sheet.place(np.array([[0.0, 0.0], [40.0, 50.0]]))
    assert corners[0].tolist() == [x, y]


def test_a_matte_print_has_no_sheen_and_a_glossy_one_moves_with_the_turn() -> None:
    assert not sheen_at(LOOK, (80, 60), (0.0, 0.0, 0.0)).any()
    glossy = replace(LOOK, gloss=50.0, sheen_xy=(0.5, 0.5), sheen_sigma=0.2)
    facing = sheen_at(glossy, (80, 60), (0.0, 0.0, 0.0))
    turned = sheen_at(glossy, (80, 60), (0.0, 8.0, 0.0))
    assert facing.max() == pytest.approx(50.0, rel=0.05)
    assert np.argmax(turned.max(axis=0)) > np.argmax(facing.max(axis=0)) + 5


def test_focus_blurs_the_sheet_and_not_the_room() -> None:
    camera = Camera(160, 120, 160.0)
    room = np.zeros((120, 160, 3), dtype=np.uint8)
    room[:, ::2] = 200  # a sharp room: stripes one pixel wide
    texture = np.zeros((40, 40, 3), dtype=np.uint8)
    texture[:, ::2] = 255
    sheet = Surface(texture, 1.0 / 160.0)
    pose = Pose((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    sharp, soft = room.copy(), room.copy()
    render_surface(sharp, sheet, pose, camera)
    render_surface(soft, sheet, pose, camera, focus_sigma_px=1.5)
    face = (slice(50, 70), slice(70, 90))
    assert soft[face].astype(float).std() < 0.5 * sharp[face].astype(float).std()
    assert np.array_equal(soft[:, :30], room[:, :30])
