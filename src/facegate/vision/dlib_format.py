"""Read dlib's DNN serialization into plain dataclasses and numpy arrays (no dlib needed).

dlib writes a network as nested objects, outermost first: the loss layer, then each
``add_layer`` / ``add_tag_layer`` / ``add_skip_layer`` writes its version and recurses into
the layer below it before writing its own details. So a file holds a run of versions
(output to input), the input layer, and then each layer's details from the input outwards.
Tags and skips write nothing but their version, so their ids come from the network type,
which :mod:`facegate.vision.dlib_resnet` spells out for the face descriptor.

Encodings (dlib's ``serialize.h``): integers are ``pack_int`` (a byte whose low nibble is
the count of little-endian magnitude bytes that follow and whose 0x80 bit marks a negative
value), strings a ``pack_int`` length and the bytes, ``bool`` the ASCII byte ``'0'`` or
``'1'``, floating-point numbers two ``pack_int``s (an int64 mantissa and an int16 exponent,
value = mantissa * 2**exponent), tensors (version 2) ``pack_int`` sizes and raw
little-endian float32 data.

Every surprise raises :class:`ModelUnavailableError`: a file that is not exactly the
network we know is refused, never half-read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from facegate.domain.errors import ModelUnavailableError

Float32Array = npt.NDArray[np.float32]

_SPECIAL_EXPONENTS = range(32000, 32003)  # dlib's markers for inf, -inf and NaN


class DlibFormatError(ModelUnavailableError):
    """The file is not a dlib network of the expected shape."""


@dataclass(frozen=True, slots=True)
class InputLayer:
    """``input_rgb_image_sized``: how an RGB chip becomes the network's input.

    Attributes:
        mean_rgb: per-channel means subtracted from the 0-255 pixel values.
        rows: chip height in pixels (150).
        cols: chip width in pixels (150).
    """

    mean_rgb: tuple[float, float, float]
    rows: int
    cols: int

    scale: float = 1.0 / 256.0
    """Factor applied after subtracting the mean: dlib divides by 256, not 255."""


@dataclass(frozen=True, slots=True, eq=False)
class Conv:
    """``con_``: a 2-D convolution (cross-correlation) with bias.

    Attributes:
        weights: ``(out_channels, in_channels, rows, cols)`` float32.
        bias: ``(out_channels,)`` float32.
        stride: ``(y, x)`` in pixels.
        padding: ``(y, x)`` zero padding on each side, in pixels, as stored in the file.
    """

    weights: Float32Array = field(repr=False)
    bias: Float32Array = field(repr=False)
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Affine:
    """``affine_`` in convolution mode: ``x * gamma[c] + beta[c]`` per channel (folded BN)."""

    gamma: Float32Array = field(repr=False)
    beta: Float32Array = field(repr=False)


@dataclass(frozen=True, slots=True)
class Relu:
    """``relu_``: ``max(x, 0)``."""


@dataclass(frozen=True, slots=True)
class Pool:
    """``max_pool_`` or ``avg_pool_`` without padding.

    Attributes:
        kind: ``"max"`` or ``"avg"``.
        size: window ``(rows, cols)``; ``(0, 0)`` pools the whole input (global).
        stride: ``(y, x)`` in pixels.
    """

    kind: Literal["max", "avg"]
    size: tuple[int, int]
    stride: tuple[int, int]

    @property
    def is_global(self) -> bool:
        """Whether the window is the whole input (dlib's ``*_pool_everything``)."""
        return self.size == (0, 0)


@dataclass(frozen=True, slots=True)
class Tag:
    """``tagN``: remembers the current tensor under ``id``."""

    id: int


@dataclass(frozen=True, slots=True)
class Skip:
    """``skipN``: continues from the tensor remembered under ``id``."""

    id: int


@dataclass(frozen=True, slots=True)
class AddPrev:
    """``add_prevN``: adds the tensor remembered under ``tag`` to the current one.

    When the shapes differ the result has the larger size on every axis and each operand
    counts as zero outside its own extent (top-left aligned), as dlib's ``tt::add`` does.
    """

    tag: int


@dataclass(frozen=True, slots=True, eq=False)
class FcNoBias:
    """``fc_no_bias``: ``flatten(x) @ weights``.

    Attributes:
        weights: ``(inputs, outputs)`` float32; inputs are flattened channel-major.
    """

    weights: Float32Array = field(repr=False)


Layer = Conv | Affine | Relu | Pool | Tag | Skip | AddPrev | FcNoBias


@dataclass(frozen=True, slots=True)
class MetricLoss:
    """``loss_metric_``: training-time settings that travel with the network.

    Attributes:
        margin: the training margin (0.04).
        distance_threshold: the trained decision radius, euclidean (0.6).
    """

    margin: float
    distance_threshold: float


@dataclass(frozen=True, slots=True)
class DlibNetwork:
    """A parsed network: its input, its layers from the input outwards, its loss."""

    input: InputLayer
    layers: tuple[Layer, ...]
    loss: MetricLoss


class DlibReader:
    """Decodes dlib's primitive encodings from a byte buffer, front to back.

    Args:
        data: the whole file.
    """

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.offset = 0

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self.offset

    def fail(self, message: str) -> DlibFormatError:
        """An error that says where in the file reading went wrong."""
        return DlibFormatError(f"dlib model file, byte {self.offset}: {message}")

    def _take(self, count: int) -> memoryview:
        if count < 0 or count > self.remaining:
            raise self.fail(f"needs {count} more bytes, {self.remaining} left")
        chunk = self._data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def integer(self) -> int:
        """A ``pack_int`` encoded integer."""
        control = self._take(1)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte 0x{control:02x}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def real(self) -> float:
        """A portable float (``float``/``double``): mantissa * 2**exponent."""
        mantissa = self.integer()
        exponent = self.integer()
        if exponent in _SPECIAL_EXPONENTS:
            raise self.fail("infinite or NaN value")
        return float(mantissa * 2.0**exponent)

    def boolean(self) -> bool:
        """A ``bool`` written as ASCII ``'0'`` or ``'1'``."""
        byte = self._take(1)[0]
        if byte not in (0x30, 0x31):
            raise self.fail(f"bad bool byte 0x{byte:02x}")
        return byte == 0x31

    def string(self) -> str:
        """A length-prefixed string."""
        length = self.integer()
        if length > 256:
            raise self.fail(f"implausible string length {length}")
        try:
            return bytes(self._take(length)).decode("ascii")
        except UnicodeDecodeError as err:
            raise self.fail("non-ASCII string") from err

    def expect_version(self, what: str, allowed: tuple[int, ...]) -> int:
        """An integer version that must be one of ``allowed``."""
        version = self.integer()
        if version not in allowed:
            raise self.fail(f"{what} has version {version}, expected one of {allowed}")
        return version

    def expect_string(self, what: str, allowed: tuple[str, ...]) -> str:
        """A string (a layer's serialization name) that must be one of ``allowed``."""
        text = self.string()
        if text not in allowed:
            raise self.fail(f"expected {what} {' or '.join(allowed)}, found {text!r}")
        return text

    def tensor(self) -> Float32Array:
        """A ``resizable_tensor`` as a ``(num_samples, k, nr, nc)`` float32 array."""
        version = self.expect_version("tensor", (1, 2))
        shape = tuple(self.integer() for _ in range(4))
        if any(size < 0 for size in shape):
            raise self.fail(f"negative tensor size {shape}")
        count = int(np.prod(shape))
        if version == 1:  # dlib's portable float per element (old files)
            values = np.array([self.real() for _ in range(count)], dtype=np.float32)
        else:
            values = np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)
        return values.reshape(shape)

    def alias_shape(self) -> tuple[int, int, int, int]:
        """An ``alias_tensor``: only its shape is stored."""
        self.expect_version("alias_tensor", (1,))
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc


def read_input_rgb_image_sized(reader: DlibReader) -> InputLayer:
    """The details of ``input_rgb_image_sized<NR, NC>``."""
    reader.expect_string("input layer", ("input_rgb_image_sized",))
    mean_rgb = (reader.real(), reader.real(), reader.real())
    rows, cols = reader.integer(), reader.integer()
    return InputLayer(mean_rgb=mean_rgb, rows=rows, cols=cols)


def read_metric_loss(reader: DlibReader) -> MetricLoss:
    """The details of ``loss_metric_``."""
    reader.expect_string("loss layer", ("loss_metric_2",))
    return MetricLoss(margin=reader.real(), distance_threshold=reader.real())


def _flat_params(reader: DlibReader, expected: int, what: str) -> Float32Array:
    params = reader.tensor().reshape(-1)
    if params.size != expected:
        raise reader.fail(f"{what} holds {params.size} parameters, its shapes need {expected}")
    return params


def _skip_multipliers(reader: DlibReader, count: int) -> None:
    for _ in range(count):  # learning-rate and weight-decay multipliers: training only
        reader.real()


def read_conv(reader: DlibReader) -> Conv:
    """The details of ``con_`` (serialization name ``con_4``)."""
    reader.expect_string("layer", ("con_4",))
    params = reader.tensor().reshape(-1)
    filters, rows, cols = reader.integer(), reader.integer(), reader.integer()
    stride = (reader.integer(), reader.integer())
    padding = (reader.integer(), reader.integer())
    out_channels, in_channels, alias_rows, alias_cols = reader.alias_shape()
    bias_shape = reader.alias_shape()
    _skip_multipliers(reader, 4)
    if (out_channels, alias_rows, alias_cols) != (filters, rows, cols) or bias_shape != (
        1,
        filters,
        1,
        1,
    ):
        raise reader.fail(f"con_ shapes disagree: {filters}x{rows}x{cols} filters")
    if min(stride) < 1 or min(padding) < 0 or padding[0] >= rows or padding[1] >= cols:
        raise reader.fail(f"con_ has stride {stride} and padding {padding}")
    size = out_channels * in_channels * rows * cols
    if params.size != size + filters:
        raise reader.fail(f"con_ holds {params.size} parameters, its shapes need {size + filters}")
    weights = params[:size].reshape(out_channels, in_channels, rows, cols)
    return Conv(weights=weights, bias=params[size:], stride=stride, padding=padding)


def read_affine(reader: DlibReader) -> Affine:
    """The details of ``affine_`` in convolution mode (one gamma and beta per channel)."""
    reader.expect_string("layer", ("affine_",))
    params = reader.tensor().reshape(-1)
    gamma_shape, beta_shape = reader.alias_shape(), reader.alias_shape()
    mode = reader.integer()
    if mode != 0:  # dlib's CONV_MODE; FC_MODE (1) would scale every element separately
        raise reader.fail(f"affine_ in mode {mode}, only convolution mode (0) is supported")
    if gamma_shape != beta_shape or gamma_shape[0] != 1 or gamma_shape[2:] != (1, 1):
        raise reader.fail(f"affine_ shapes {gamma_shape} and {beta_shape}")
    channels = gamma_shape[1]
    if params.size != 2 * channels:
        raise reader.fail(f"affine_ holds {params.size} parameters for {channels} channels")
    return Affine(gamma=params[:channels], beta=params[channels:])


def read_relu(reader: DlibReader) -> Relu:
    """The details of ``relu_`` (its name only)."""
    reader.expect_string("layer", ("relu_",))
    return Relu()


def read_pool(reader: DlibReader) -> Pool:
    """The details of ``max_pool_`` or ``avg_pool_``; padding must be zero."""
    name = reader.expect_string("layer", ("max_pool_2", "avg_pool_2"))
    size = (reader.integer(), reader.integer())
    stride = (reader.integer(), reader.integer())
    padding = (reader.integer(), reader.integer())
    if padding != (0, 0) or min(stride) < 1 or min(size) < 0:
        raise reader.fail(f"{name} with size {size}, stride {stride}, padding {padding}")
    return Pool(kind="max" if name.startswith("max") else "avg", size=size, stride=stride)


def read_add_prev(reader: DlibReader, tag: int) -> AddPrev:
    """The details of ``add_prev_`` (its name only; the tag comes from the network type)."""
    reader.expect_string("layer", ("add_prev_",))
    return AddPrev(tag=tag)


def read_fc_no_bias(reader: DlibReader) -> FcNoBias:
    """The details of ``fc_`` without bias (serialization name ``fc_2``)."""
    reader.expect_string("layer", ("fc_2",))
    outputs, inputs = reader.integer(), reader.integer()
    params = _flat_params(reader, inputs * outputs, "fc_")
    weights_shape = reader.alias_shape()
    reader.alias_shape()  # the unused bias alias
    bias_mode = reader.integer()
    _skip_multipliers(reader, 4)
    if bias_mode != 1:  # dlib's FC_NO_BIAS
        raise reader.fail(f"fc_ with bias mode {bias_mode}, expected no bias (1)")
    if weights_shape != (inputs, outputs, 1, 1):
        raise reader.fail(f"fc_ weights {weights_shape} for {inputs} inputs, {outputs} outputs")
    return FcNoBias(weights=params.reshape(inputs, outputs))
