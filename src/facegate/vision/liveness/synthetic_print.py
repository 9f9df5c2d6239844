"""A photo printed on paper and held by a hand, as a sheet texture for the attack suite.

Modelled from what printing does, not fitted to any sample: the inks cover a smaller
colour gamut than a camera's photo (chroma scaled down and compressed), paper is not
white and ink is not black (the paper's white point, tinted, and the densest ink's
lightness bound every tone), the printer spreads ink (dot gain darkens the middle
tones), a printer driver may sharpen, the tones are made of ink dots on a halftone
screen (clustered dots on rotated cyan, magenta and yellow grids, or an inkjet's
scattered dots) at the print's own resolution, paper has a fibre texture, and glossy
paper shows a sheen of the room's lamp that moves as the sheet turns. Around the photo
is the paper's margin (or none, cut to the picture), and a hand may hold the sheet at a
side or at the bottom, its thumb over the paper. How sharp the sheet looks to the
camera (its focus) is drawn apart from how sharp the room is, so that a print can be
sharper than its room as well as blurrier.

Units: CIELAB values in CIE units; sizes in print pixels unless stated; grey levels
0-255.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.images import RgbImage

Matrix = npt.NDArray[np.float64]
Mask = npt.NDArray[np.uint8]

PRINT_PX_PER_PHOTO_PX = 6
"""Print pixels per photo pixel: the resolution the halftone dots are drawn at."""

SCREEN_ANGLES_DEG = (15.0, 75.0, 0.0)
"""Halftone screen angles of the cyan, magenta and yellow inks (the classic set; black
is left out: the red, green and blue channels are each one ink's complement)."""

TEXTURE_PX_PER_CAMERA_PX = 1.5
"""Sheet texture pixels per camera pixel at the nominal distance: the print is area-
averaged down to this (as a sensor pixel averages the dots it covers) before it is
drawn, so a fine halftone fades to its mean tone and a coarse one aliases into moire."""

HAND_SIDES = ("left", "right", "bottom", "")
"""Where a hand holds the sheet (``""``: no hand seen, held by its back or a clip)."""


@dataclass(frozen=True, slots=True)
class PrintLook:
    """How one print looks (drawn once per print attack by :meth:`draw`).

    Attributes:
        chroma_scale: share of the photo's CIELAB chroma the inks keep (0-1).
        chroma_max: chroma the inks saturate towards (soft limit, CIE units).
        paper_white: the paper's CIELAB L* (what the lightest tone becomes).
        paper_tint: the paper's CIELAB ``(a*, b*)`` (b* < 0: optical brighteners'
            blue; b* > 0: an uncoated paper's warm cream).
        ink_black: CIELAB L* of the densest ink (no true black on paper).
        dot_gain: exponent on the tone (0 dark to 1 light); above 1 darkens the middle.
        sharpen: unsharp-mask amount the printer driver adds (0: none).
        halftone: ``screen`` (clustered dots on rotated grids: laser, offset) or
            ``dither`` (scattered dots: inkjet).
        dot_period_camera_px: the clustered screen's cell size in camera pixels at the
            nominal distance (well below 1 the sensor averages the dots away, leaving a
            faint moire); drawn no finer than 2.5 print pixels.
        fibre: paper fibre texture, share of brightness (standard deviation).
        gloss: peak sheen added by a glossy paper, grey levels (0: matte).
        sheen_xy: the sheen's place on the sheet facing the camera, shares of its width
            and height; it moves as the sheet turns.
        sheen_sigma: the sheen's size, share of the sheet's width.
        margin: paper margin around the photo, share of its longer side (0: cut to it).
        focus_sigma_px: the sheet's own blur in the camera, camera pixels.
        room_sigma_px: the room's blur, camera pixels (drawn apart from the sheet's).
        hand: a value of :data:`HAND_SIDES`.
        hand_at: where along that side the hand holds, share of the side's length.
        skin_lab: the hand's CIELAB ``(L*, a*, b*)``.
    """

    chroma_scale: float
    chroma_max: float
    paper_white: float
    paper_tint: tuple[float, float]
    ink_black: float
    dot_gain: float
    sharpen: float
    halftone: str
    dot_period_camera_px: float
    fibre: float
    gloss: float
    sheen_xy: tuple[float, float]
    sheen_sigma: float
    margin: float
    focus_sigma_px: float
    room_sigma_px: float
    hand: str
    hand_at: float
    skin_lab: tuple[float, float, float]

    @classmethod
    def draw(cls, rng: np.random.Generator) -> PrintLook:
        """A random look within the ranges of office and photo prints.

        Ranges (from printing, not from any sample): a CMYK office or inkjet print keeps
        about 55-90 % of an sRGB photo's chroma and saturates near chroma 35-60; paper
        white L* 88-96 with b* from -4 (brightened) to +6 (cream); ink black L* 12-28;
        dot gain exponent 1-1.3; halftone cells of 0.15-0.6 camera pixels (a face 15 cm wide
        printed at 50-150 lines per inch, seen 75-130 camera pixels wide); half glossy.
        """
        return cls(
            chroma_scale=float(rng.uniform(0.55, 0.9)),
            chroma_max=float(rng.uniform(35.0, 60.0)),
            paper_white=float(rng.uniform(88.0, 96.0)),
            paper_tint=(float(rng.uniform(-1.0, 1.5)), float(rng.uniform(-4.0, 6.0))),
            ink_black=float(rng.uniform(12.0, 28.0)),
            dot_gain=float(rng.uniform(1.0, 1.3)),
            sharpen=float(rng.choice([0.0, rng.uniform(0.3, 1.5)])),
            halftone=str(rng.choice(["screen", "dither"])),
            dot_period_camera_px=float(rng.uniform(0.15, 0.6)),
            fibre=float(rng.uniform(0.01, 0.04)),
            gloss=float(rng.choice([0.0, rng.uniform(20.0, 80.0)])),
            sheen_xy=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
            sheen_sigma=float(rng.uniform(0.1, 0.35)),
            margin=float(rng.choice([0.0, rng.uniform(0.02, 0.15)])),
            focus_sigma_px=float(rng.uniform(0.0, 1.5)),
            room_sigma_px=float(rng.uniform(0.3, 2.5)),
            hand=str(rng.choice(HAND_SIDES)),
            hand_at=float(rng.uniform(0.3, 0.8)),
            skin_lab=(
                float(rng.uniform(45.0, 80.0)),
                float(rng.uniform(10.0, 22.0)),
                float(rng.uniform(12.0, 26.0)),
            ),
        )


@dataclass(frozen=True, slots=True)
class Sheet:
    """A print ready to be drawn: its texture, mask and where the photo lies on it.

    Attributes:
        texture: RGB print pixels (the hand included).
        alpha: 255 where the sheet or the hand is, 0 around them.
        plain: the same geometry without ink (the photo as it was), for what lies behind
            cut-out holes.
        px_per_photo_px: texture pixels per photo pixel.
        offset: texture ``(x, y)`` of the photo's top-left corner.
    """

    texture: RgbImage
    alpha: Mask
    plain: RgbImage
    px_per_photo_px: float
    offset: tuple[int, int]

    def place(self, points: Matrix) -> Matrix:
        """Photo pixels ``(n, 2)`` to texture pixels."""
        scale = self.px_per_photo_px
        return np.asarray(points * scale + np.asarray(self.offset, np.float64), np.float64)


def ink_on_paper(
    photo: RgbImage, look: PrintLook, print_px_per_camera_px: float, rng: np.random.Generator
) -> RgbImage:
    """``photo`` printed: gamut, paper and ink, dot gain, halftone dots, fibre (print pixels).

    Args:
        photo: the RGB photo.
        look: the print's look.
        print_px_per_camera_px: print pixels one camera pixel covers at the nominal
            distance (sets the halftone cell in print pixels).
        rng: draws the inkjet's scattered dots and the paper fibre.

    Returns:
        The print, :data:`PRINT_PX_PER_PHOTO_PX` times the photo's size.
    """
    f = PRINT_PX_PER_PHOTO_PX
    image = photo.astype(np.float32)
    if look.sharpen > 0.0:
        soft = cv2.GaussianBlur(image, (0, 0), 1.0)
        image = np.clip(image + look.sharpen * (image - soft), 0.0, 255.0)
    target = _inked_colour(image.astype(np.uint8), look)
    height, width = photo.shape[:2]
    big = cv2.resize(target, (width * f, height * f), interpolation=cv2.INTER_CUBIC)
    paper, black = _paper_rgb(look)
    coverage = np.clip((paper - big) / np.maximum(paper - black, 1.0), 0.0, 1.0)
    period = max(look.dot_period_camera_px * print_px_per_camera_px, 2.5)
    dots = _halftone(coverage, look.halftone, period, rng)
    # Ink spreads a little into the paper: the dots' edges are soft (0.7 print pixels).
    dots = np.asarray(cv2.GaussianBlur(dots.astype(np.float32), (0, 0), 0.7), np.float32)
    printed = paper - dots * (paper - black)
    fibre = cv2.GaussianBlur(rng.normal(0.0, 1.0, big.shape[:2]).astype(np.float32), (0, 0), 1.5)
    fibre *= look.fibre / max(float(fibre.std()), 1e-6)
    printed = printed * (1.0 + fibre[..., None])
    return np.asarray(np.clip(np.rint(printed), 0, 255), dtype=np.uint8)


def _inked_colour(photo: RgbImage, look: PrintLook) -> npt.NDArray[np.float32]:
    """The colour each photo pixel is printed as (RGB 0-255, float): gamut, paper, ink."""
    lab = cv2.cvtColor(photo.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    kept = look.chroma_max * np.tanh(look.chroma_scale * chroma / look.chroma_max)
    ratio = np.where(chroma > 1e-3, kept / np.maximum(chroma, 1e-3), 0.0)
    tone = np.clip(lightness / 100.0, 0.0, 1.0) ** look.dot_gain
    lab[..., 0] = look.ink_black + (look.paper_white - look.ink_black) * tone
    lab[..., 1] = a * ratio + look.paper_tint[0] * tone
    lab[..., 2] = b * ratio + look.paper_tint[1] * tone
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.asarray(np.clip(rgb, 0.0, 1.0) * 255.0, dtype=np.float32)


def _paper_rgb(look: PrintLook) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The paper's and the densest ink's RGB (0-255 each, float)."""
    lab = np.array(
        [[[look.paper_white, *look.paper_tint], [look.ink_black, 0.0, 0.0]]], dtype=np.float32
    )
    rgb = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0.0, 1.0) * 255.0
    return rgb[0, 0].astype(np.float32), rgb[0, 1].astype(np.float32)


def _halftone(
    coverage: npt.NDArray[np.float32], kind: str, period: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Ink ``(h, w, 3)`` (0 paper, 1 ink) whose local share is ``coverage`` (one ink a channel).

    ``screen``: each channel's ink is thresholded against a rotated grid of round dots
    (clustered-dot screen, cell ``period`` print pixels). ``dither``: an inkjet's droplets
    are far finer than any print pixel here, so only what is left of them after a camera
    pixel averages thousands is drawn: a faint grain (standard deviation 0.04 of full
    coverage, over about a print pixel) on the coverage.
    """
    height, width = coverage.shape[:2]
    if kind != "screen":
        grain = rng.normal(0.0, 1.0, coverage.shape).astype(np.float32)
        grain = np.asarray(cv2.GaussianBlur(grain, (0, 0), 1.0), np.float32)
        grain *= 0.04 / max(float(grain.std()), 1e-6)
        return np.asarray(np.clip(coverage + grain, 0.0, 1.0), dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dots = np.empty_like(coverage)
    for channel, angle in enumerate(SCREEN_ANGLES_DEG):
        t = np.radians(angle)
        u = (xx * np.cos(t) + yy * np.sin(t)) * (2.0 * np.pi / period)
        v = (-xx * np.sin(t) + yy * np.cos(t)) * (2.0 * np.pi / period)
        # 1 at a cell's centre, 0 at its corners: a dot grows from the centre.
        threshold = 1.0 - (np.cos(u) + np.cos(v) + 2.0) / 4.0
        dots[..., channel] = (coverage[..., channel] > threshold).astype(np.float32)
    return dots


def make_sheet(
    photo: RgbImage,
    face_width_px: float,
    look: PrintLook,
    photo_px_per_camera_px: float,
    rng: np.random.Generator,
) -> Sheet:
    """The printed sheet of ``photo``: inked, with its paper margin and the holding hand.

    The print is made at :data:`PRINT_PX_PER_PHOTO_PX` and area-averaged down to
    :data:`TEXTURE_PX_PER_CAMERA_PX` (never up).

    Args:
        photo: the RGB photo.
        face_width_px: the face's width in the photo, photo pixels (sizes the hand).
        look: the print's look.
        photo_px_per_camera_px: photo pixels one camera pixel covers at the nominal
            distance.
        rng: draws the dots, fibre and the hand's shading.
    """
    f = PRINT_PX_PER_PHOTO_PX
    printed = ink_on_paper(photo, look, f * photo_px_per_camera_px, rng)
    scale = min(TEXTURE_PX_PER_CAMERA_PX / photo_px_per_camera_px, float(f))
    height, width = photo.shape[:2]
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    small = np.asarray(cv2.resize(printed, size, interpolation=cv2.INTER_AREA), np.uint8)
    flat = np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), np.uint8)
    margin = round(look.margin * max(size))
    paper, _ = _paper_rgb(look)
    white = tuple(float(v) for v in np.rint(paper))
    sheet = cv2.copyMakeBorder(
        small, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=white
    )
    framed = cv2.copyMakeBorder(
        flat, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=white
    )
    face = face_width_px * size[0] / width
    reach = round(0.7 * face) if look.hand else 0
    pads = {
        "left": (reach, 0, 0, 0),
        "right": (0, reach, 0, 0),
        "bottom": (0, 0, 0, reach),
    }.get(look.hand, (0, 0, 0, 0))
    left, right, top, bottom = pads
    texture = np.asarray(
        cv2.copyMakeBorder(sheet, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0), np.uint8
    )
    plain = cv2.copyMakeBorder(framed, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
    alpha = np.zeros(texture.shape[:2], dtype=np.uint8)
    alpha[top : top + sheet.shape[0], left : left + sheet.shape[1]] = 255
    if look.hand:
        sheet_box = (left, top, left + sheet.shape[1], top + sheet.shape[0])
        _draw_hand(texture, alpha, sheet_box, face, look, rng)
    return Sheet(
        np.ascontiguousarray(texture, dtype=np.uint8),
        alpha,
        np.ascontiguousarray(plain, dtype=np.uint8),
        size[0] / width,
        (left + margin, top + margin),
    )


def _draw_hand(
    texture: RgbImage,
    alpha: Mask,
    sheet_box: tuple[int, int, int, int],
    face: float,
    look: PrintLook,
    rng: np.random.Generator,
) -> None:
    """A hand beside ``sheet_box`` with its thumb over the paper (in place, texture pixels).

    The palm (0.6 face widths across) lies beyond the sheet's edge, the thumb (0.45 long,
    0.16 wide) reaches over the edge onto the paper; skin of ``look.skin_lab``, shaded.
    """
    left, top, right, bottom = sheet_box
    palm_axes = (round(0.3 * face), round(0.42 * face))
    thumb_axes = (round(0.24 * face), round(0.08 * face))
    if look.hand == "bottom":
        x = round(left + look.hand_at * (right - left))
        palm, thumb = (
            (x, bottom + palm_axes[0]),
            (x - round(0.1 * face), bottom - round(0.05 * face)),
        )
        palm_axes, angle, thumb_angle = (palm_axes[1], palm_axes[0]), 0.0, 70.0
    else:
        y = round(top + look.hand_at * (bottom - top))
        edge, out = (left, -1) if look.hand == "left" else (right, 1)
        palm = (edge + out * palm_axes[0], y)
        thumb = (edge - out * round(0.08 * face), y - round(0.12 * face))
        angle, thumb_angle = 0.0, 20.0 * out
    shape = np.zeros(alpha.shape, dtype=np.uint8)
    cv2.ellipse(shape, palm, palm_axes, angle, 0.0, 360.0, 255, -1)
    cv2.ellipse(shape, thumb, thumb_axes, thumb_angle, 0.0, 360.0, 255, -1)
    lab = np.array([[look.skin_lab]], dtype=np.float32)
    skin = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)[0, 0], 0.0, 1.0) * 255.0
    height = alpha.shape[0]
    light = np.linspace(1.05, 0.8, height, dtype=np.float32)[:, None]
    mottle = cv2.GaussianBlur(
        rng.normal(0.0, 1.0, alpha.shape).astype(np.float32), (0, 0), 0.05 * face
    )
    mottle = mottle * np.float32(0.04 / max(float(mottle.std()), 1e-6))
    shade = (light + mottle)[..., None]
    inside = shape > 0
    texture[inside] = np.clip(skin[None, None, :] * shade, 0, 255).astype(np.uint8)[inside]
    alpha[inside] = 255


def sheen_at(
    look: PrintLook, size: tuple[int, int], angles_deg: tuple[float, float, float]
) -> Matrix:
    """The gloss added at each texture pixel ``(h, w)`` at a pose, grey levels.

    The lamp's reflection moves across the sheet twice as fast as the sheet turns (a
    mirror doubles the angle): ``sheen_xy`` shifts by ``2 * tan(angle)`` sheet widths per
    turn about the vertical axis and sheet heights per tilt about the horizontal one.

    Args:
        look: the print's look (``gloss`` 0 gives zeros).
        size: the texture's ``(width, height)``, texture pixels.
        angles_deg: the sheet's rotation about the camera's x, y and z axes, degrees.
    """
    width, height = size
    if look.gloss <= 0.0:
        return np.zeros((height, width), dtype=np.float64)
    tilt, turn = np.radians(angles_deg[0]), np.radians(angles_deg[1])
    cx = (look.sheen_xy[0] + 2.0 * np.tan(turn)) * width
    cy = (look.sheen_xy[1] - 2.0 * np.tan(tilt)) * height
    coarse = 64
    xs = (np.arange(coarse) + 0.5) / coarse * width
    ys = (np.arange(coarse) + 0.5) / coarse * height
    sigma = look.sheen_sigma * width
    blob = look.gloss * np.exp(
        -((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2) / (2.0 * sigma**2)
    )
    return np.asarray(cv2.resize(blob, (width, height), interpolation=cv2.INTER_LINEAR), np.float64)
