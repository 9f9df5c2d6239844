"""The layout of dlib's ResNet face descriptor, and the reader of its ``.dat`` file.

dlib's network type (``dnn_face_recognition_ex.cpp``, ``face_recognition.cpp``) in words:
a 7x7/2 convolution with 32 filters, affine, relu and a 3x3/2 max pool; then residual
units ``ares`` (tag1, conv 3x3, affine, relu, conv 3x3, affine, add_prev1, relu) and
down-sampling units ``ares_down`` (the same block with a stride-2 first convolution, then
tag2, skip1, 2x2/2 average pool of the unit's input, add_prev2, relu): 3 x 32 filters,
1 down + 3 x 64, 1 down + 2 x 128, 1 down + 2 x 256, 1 down x 256; a global average pool
and a 128-output fully connected layer without bias. 29 convolutions in all.

The file's layer names, shapes, strides and paddings are checked against this layout as
it is read; the tags and skips, which dlib does not write, are filled in from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from facegate.domain.errors import ModelUnavailableError
from facegate.vision.dlib_format import (
    AddPrev,
    DlibNetwork,
    DlibReader,
    Layer,
    Pool,
    Skip,
    Tag,
    read_add_prev,
    read_affine,
    read_conv,
    read_fc_no_bias,
    read_input_rgb_image_sized,
    read_metric_loss,
    read_pool,
    read_relu,
)

DESCRIPTOR_INPUT_SIDE_PX = 150
"""Side of the square RGB chip the network reads, in pixels."""


@dataclass(frozen=True, slots=True)
class ConvSpec:
    """An expected convolution: filter count, square kernel side, stride (both axes)."""

    filters: int
    size: int
    stride: int


@dataclass(frozen=True, slots=True)
class FcSpec:
    """An expected fully connected layer without bias: its output count."""

    outputs: int


LayerSpec = ConvSpec | FcSpec | Pool | Tag | Skip | AddPrev | Literal["affine", "relu"]


def _block(filters: int, stride: int) -> list[LayerSpec]:
    return [ConvSpec(filters, 3, stride), "affine", "relu", ConvSpec(filters, 3, 1), "affine"]


def _ares(filters: int) -> list[LayerSpec]:
    return [Tag(1), *_block(filters, 1), AddPrev(1), "relu"]


def _ares_down(filters: int) -> list[LayerSpec]:
    pool = Pool(kind="avg", size=(2, 2), stride=(2, 2))
    return [Tag(1), *_block(filters, 2), Tag(2), Skip(1), pool, AddPrev(2), "relu"]


def descriptor_layout() -> list[LayerSpec]:
    """The face descriptor's layers from the input outwards (dlib's ``anet_type``)."""
    layers: list[LayerSpec] = [
        ConvSpec(32, 7, 2),
        "affine",
        "relu",
        Pool(kind="max", size=(3, 3), stride=(2, 2)),
    ]
    for down, filters, repeats in ((False, 32, 3), (True, 64, 3), (True, 128, 2), (True, 256, 2)):
        if down:
            layers += _ares_down(filters)
        for _ in range(repeats):
            layers += _ares(filters)
    layers += _ares_down(256)
    layers += [Pool(kind="avg", size=(0, 0), stride=(1, 1)), FcSpec(128)]
    return layers


def _read_details(reader: DlibReader, spec: LayerSpec) -> Layer:
    if isinstance(spec, Tag | Skip):
        return spec
    if isinstance(spec, AddPrev):
        return read_add_prev(reader, spec.tag)
    simple: dict[str, Callable[[DlibReader], Layer]] = {"affine": read_affine, "relu": read_relu}
    if isinstance(spec, str):
        return simple[spec](reader)
    if isinstance(spec, Pool):
        pool = read_pool(reader)
        if pool != spec:
            raise reader.fail(f"found {pool}, expected {spec}")
        return pool
    if isinstance(spec, FcSpec):
        fc = read_fc_no_bias(reader)
        if fc.weights.shape[1] != spec.outputs:
            raise reader.fail(f"fc_ has {fc.weights.shape[1]} outputs, expected {spec.outputs}")
        return fc
    conv = read_conv(reader)
    found = (conv.weights.shape[0], conv.weights.shape[2], conv.weights.shape[3], conv.stride)
    if found != (spec.filters, spec.size, spec.size, (spec.stride, spec.stride)):
        raise reader.fail(f"con_ (filters, rows, cols, stride) {found}, expected {spec}")
    return conv


def _read_add_layer_trailer(reader: DlibReader, version: int, over_input: bool) -> None:
    """What ``add_layer`` writes after its details: training state, all discarded."""
    for _ in range(3):  # setup called, gradient stale, output getters disabled
        reader.boolean()
    reader.tensor()  # x_grad
    reader.tensor()  # cached_output
    if over_input:
        reader.tensor()  # grad_final
        if version >= 3:
            reader.integer()  # sample expansion factor
    else:
        reader.tensor()  # params_grad


def _read_versions(reader: DlibReader, layout: list[LayerSpec]) -> list[int]:
    """The versions written from the output inwards, returned in input-to-output order."""
    versions = []
    for index in range(len(layout) - 1, -1, -1):
        spec = layout[index]
        if isinstance(spec, Tag | Skip):
            versions.append(reader.expect_version(f"layer {index} (tag/skip)", (1,)))
        else:
            allowed = (2, 3) if index == 0 else (2,)
            versions.append(reader.expect_version(f"layer {index} (add_layer)", allowed))
    return versions[::-1]


def parse_network(data: bytes, layout: list[LayerSpec] | None = None) -> DlibNetwork:
    """Parse a serialized ``loss_metric`` network of ``layout`` (default: the descriptor).

    Args:
        data: the whole ``.dat`` file.
        layout: the expected layers from the input outwards.

    Raises:
        ModelUnavailableError: the bytes are not exactly such a network.
    """
    layout = descriptor_layout() if layout is None else layout
    reader = DlibReader(data)
    reader.expect_version("loss layer", (1,))
    loss = read_metric_loss(reader)
    versions = _read_versions(reader, layout)
    input_layer = read_input_rgb_image_sized(reader)
    layers = []
    for index, spec in enumerate(layout):
        layers.append(_read_details(reader, spec))
        if not isinstance(spec, Tag | Skip):
            _read_add_layer_trailer(reader, versions[index], over_input=index == 0)
    if reader.remaining:
        raise reader.fail(f"{reader.remaining} bytes left after the last layer")
    side = DESCRIPTOR_INPUT_SIDE_PX
    if (input_layer.rows, input_layer.cols) != (side, side):
        raise ModelUnavailableError(f"the network reads {input_layer.rows}x{input_layer.cols}")
    return DlibNetwork(input=input_layer, layers=tuple(layers), loss=loss)


def read_descriptor_network(path: Path) -> DlibNetwork:
    """Read dlib's face descriptor network from its ``.dat`` file.

    Raises:
        ModelUnavailableError: the file cannot be read or is not the expected network.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelUnavailableError(f"cannot read the dlib model {path}: {err}") from err
    return parse_network(data)
