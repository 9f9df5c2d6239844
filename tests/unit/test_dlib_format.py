"""dlib's serialization reader on hand-made bytes and on the packaged descriptor model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facegate.domain.errors import ModelUnavailableError
from facegate.vision.dlib_format import AddPrev, Affine, Conv, DlibReader, FcNoBias, Pool, Skip
from facegate.vision.dlib_resnet import parse_network, read_descriptor_network
from facegate.vision.models import ModelName, model_path


def pack(value: int) -> bytes:
    """dlib's pack_int encoding (written here to build test inputs)."""
    magnitude = abs(value).to_bytes((abs(value).bit_length() + 7) // 8, "little")
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


@pytest.mark.parametrize("value", [0, 1, 13, 255, 256, -28, 10737418, -(2**40)])
def test_integers_round_trip(value: int) -> None:
    assert DlibReader(pack(value)).integer() == value


def test_reals_are_mantissa_times_power_of_two() -> None:
    reader = DlibReader(pack(10737418) + pack(-28) + pack(3) + pack(1))
    assert reader.real() == pytest.approx(0.04, rel=1e-6)
    assert reader.real() == 6.0


def test_strings_bools_and_tensors() -> None:
    values = np.arange(6, dtype="<f4")
    data = (
        pack(5)
        + b"relu_"
        + b"10"
        + pack(2)
        + pack(1)
        + pack(2)
        + pack(3)
        + pack(1)
        + values.tobytes()
    )
    reader = DlibReader(data)
    assert reader.string() == "relu_"
    assert reader.boolean() is True
    assert reader.boolean() is False
    tensor = reader.tensor()
    assert tensor.shape == (1, 2, 3, 1)
    assert np.array_equal(tensor.reshape(-1), values)
    assert reader.remaining == 0


@pytest.mark.parametrize(
    ("data", "read"),
    [
        (b"", DlibReader.integer),  # nothing to read
        (b"\x03\x01", DlibReader.integer),  # an integer that claims 3 bytes and has 1
        (b"\x19", DlibReader.integer),  # a control byte with a length above 8
        (pack(4) + b"rel", DlibReader.string),  # a truncated string
        (pack(0) + pack(32000), DlibReader.real),  # dlib's marker for infinity
    ],
)
def test_truncated_or_malformed_bytes_are_refused(
    data: bytes, read: Callable[[DlibReader], object]
) -> None:
    with pytest.raises(ModelUnavailableError, match="byte"):
        read(DlibReader(data))


def test_bad_bool_is_refused() -> None:
    with pytest.raises(ModelUnavailableError, match="bool"):
        DlibReader(b"x").boolean()


@pytest.fixture(scope="module")
def dat_bytes() -> bytes:
    return model_path(ModelName.DESCRIPTOR).read_bytes()


def test_packaged_descriptor_parses_to_the_known_network() -> None:
    network = read_descriptor_network(model_path(ModelName.DESCRIPTOR))
    kinds = [type(layer) for layer in network.layers]
    assert kinds.count(Conv) == 29
    assert kinds.count(Affine) == 29
    assert kinds.count(AddPrev) == 14
    assert kinds.count(Skip) == 4
    assert (network.input.rows, network.input.cols) == (150, 150)
    assert all(0 < mean < 255 for mean in network.input.mean_rgb)
    assert network.loss.distance_threshold == pytest.approx(0.6)
    first = network.layers[0]
    assert isinstance(first, Conv)
    assert first.weights.shape == (32, 3, 7, 7)
    assert first.padding == (0, 0)  # stride 2: dlib pads nothing
    strides_one = [
        layer for layer in network.layers if isinstance(layer, Conv) and layer.stride == (1, 1)
    ]
    assert all(layer.padding == (1, 1) for layer in strides_one)  # 3x3 stride 1: k/2
    last = network.layers[-1]
    assert isinstance(last, FcNoBias)
    assert last.weights.shape == (256, 128)
    pools = [layer for layer in network.layers if isinstance(layer, Pool)]
    assert pools[-1].is_global
    parameters = sum(
        layer.weights.size + layer.bias.size for layer in network.layers if isinstance(layer, Conv)
    )
    assert parameters > 5_000_000
    for layer in network.layers:
        for array in (getattr(layer, "weights", None), getattr(layer, "gamma", None)):
            assert array is None or bool(np.isfinite(array).all())


def test_trailing_bytes_are_refused(dat_bytes: bytes) -> None:
    with pytest.raises(ModelUnavailableError, match="bytes left"):
        parse_network(dat_bytes + b"\x00")


def test_truncated_file_is_refused(dat_bytes: bytes) -> None:
    with pytest.raises(ModelUnavailableError, match="more bytes"):
        parse_network(dat_bytes[:-100])


def test_unexpected_layer_name_is_refused(dat_bytes: bytes) -> None:
    at = dat_bytes.index(b"relu_")
    altered = dat_bytes[:at] + b"sig__" + dat_bytes[at + 5 :]
    with pytest.raises(ModelUnavailableError, match="relu_"):
        parse_network(altered)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="cannot read"):
        read_descriptor_network(tmp_path / "absent.dat")
