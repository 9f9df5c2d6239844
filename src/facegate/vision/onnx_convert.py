"""Build an ONNX model from a parsed dlib network, and keep the converted copy in the cache.

The graph reads what dlib's ``input_rgb_image_sized`` reads: a batch of aligned RGB chips
as ``uint8`` of shape ``(N, 150, 150, 3)`` (input ``chips``), and does dlib's normalisation
inside the graph: NHWC to NCHW, ``(pixel - mean[c]) / 256``. It writes ``(N, 128)``
float32 descriptors (output ``descriptors``). Each dlib layer maps to standard operators:
``con_`` to Conv, ``affine_`` to Mul and Add by per-channel constants, pools to MaxPool,
AveragePool or GlobalAveragePool, ``fc_no_bias`` to Flatten and MatMul.

dlib's ``add_prev`` adds tensors of different shapes where a unit down-samples (the
strided branch has more channels than the pooled input, and at 4x4 it is even smaller
spatially: 3x3 against 4x4): the result takes the larger size on each axis and each operand
counts as zero beyond its extent. Shapes are static here (the input is 150x150), so the
converter pads the smaller operand at the end of each axis (ONNX Pad) before the Add.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from facegate.domain.errors import ModelUnavailableError
from facegate.vision.dlib_format import (
    AddPrev,
    Affine,
    Conv,
    DlibNetwork,
    FcNoBias,
    Layer,
    Pool,
    Relu,
    Skip,
    Tag,
)
from facegate.vision.models import DESCRIPTOR_MODEL_ID

CONVERTER_VERSION = 1
"""Bumped whenever the graph the converter writes changes; older cached files are ignored."""

ONNX_OPSET = 17
ONNX_IR_VERSION = 8
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptors"

Shape = tuple[int, int, int]  # channels, rows, cols of one sample


def import_onnx() -> ModuleType:
    """Import the ``onnx`` package, or explain which extra provides it."""
    try:
        return importlib.import_module("onnx")
    except ImportError as err:
        raise ModelUnavailableError(
            "the ONNX backend needs the 'onnx' package: pip install 'facegate[onnx]'"
        ) from err


@dataclass(frozen=True, slots=True)
class _Value:
    """A tensor of the graph being built: its name and per-sample shape."""

    name: str
    shape: Shape


class _GraphBuilder:
    """Accumulates ONNX nodes and initializers while walking dlib's layers."""

    def __init__(self, onnx: ModuleType) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, prefix: str, array: np.ndarray[Any, Any]) -> str:
        name = self.fresh(prefix)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attributes: Any) -> str:
        output = self.fresh(prefix)
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, [output], name=output, **attributes)
        )
        return output

    def normalise(self, network: DlibNetwork) -> _Value:
        """uint8 NHWC chips to dlib's float input: NCHW, (pixel - mean) / 256."""
        layer = network.input
        floats = self.node("Cast", [INPUT_NAME], "cast", to=self.onnx.TensorProto.FLOAT)
        planar = self.node("Transpose", [floats], "nchw", perm=[0, 3, 1, 2])
        mean = np.asarray(layer.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
        centred = self.node("Sub", [planar, self.constant("mean", mean)], "centred")
        scale = np.asarray(layer.scale, dtype=np.float32)
        return _Value(
            self.node("Mul", [centred, self.constant("scale", scale)], "input"),
            (3, layer.rows, layer.cols),
        )

    def conv(self, x: _Value, layer: Conv) -> _Value:
        out_channels, _, rows, cols = layer.weights.shape
        (stride_y, stride_x), (pad_y, pad_x) = layer.stride, layer.padding
        name = self.node(
            "Conv",
            [x.name, self.constant("w", layer.weights), self.constant("b", layer.bias)],
            "conv",
            kernel_shape=[rows, cols],
            strides=[stride_y, stride_x],
            pads=[pad_y, pad_x, pad_y, pad_x],
        )
        out_rows = (x.shape[1] + 2 * pad_y - rows) // stride_y + 1
        out_cols = (x.shape[2] + 2 * pad_x - cols) // stride_x + 1
        return _Value(name, (out_channels, out_rows, out_cols))

    def affine(self, x: _Value, layer: Affine) -> _Value:
        gamma = layer.gamma.reshape(1, -1, 1, 1)
        beta = layer.beta.reshape(1, -1, 1, 1)
        scaled = self.node("Mul", [x.name, self.constant("gamma", gamma)], "scaled")
        return _Value(self.node("Add", [scaled, self.constant("beta", beta)], "affine"), x.shape)

    def pool(self, x: _Value, layer: Pool) -> _Value:
        if layer.is_global:
            op = "GlobalMaxPool" if layer.kind == "max" else "GlobalAveragePool"
            return _Value(self.node(op, [x.name], "pool"), (x.shape[0], 1, 1))
        op = "MaxPool" if layer.kind == "max" else "AveragePool"
        (rows, cols), (stride_y, stride_x) = layer.size, layer.stride
        name = self.node(
            op, [x.name], "pool", kernel_shape=[rows, cols], strides=[stride_y, stride_x]
        )
        shape = (
            x.shape[0],
            (x.shape[1] - rows) // stride_y + 1,
            (x.shape[2] - cols) // stride_x + 1,
        )
        return _Value(name, shape)

    def pad_to(self, x: _Value, shape: Shape) -> str:
        """``x`` zero-padded at the end of each axis up to ``shape`` (dlib's add_prev rule)."""
        if x.shape == shape:
            return x.name
        extra = [target - have for target, have in zip(shape, x.shape, strict=True)]
        pads = np.asarray([0, 0, 0, 0, 0, *extra], dtype=np.int64)
        return self.node("Pad", [x.name, self.constant("pads", pads)], "padded", mode="constant")

    def add(self, a: _Value, b: _Value) -> _Value:
        shape: Shape = (
            max(a.shape[0], b.shape[0]),
            max(a.shape[1], b.shape[1]),
            max(a.shape[2], b.shape[2]),
        )
        return _Value(
            self.node("Add", [self.pad_to(a, shape), self.pad_to(b, shape)], "sum"), shape
        )

    def fc(self, x: _Value, layer: FcNoBias) -> _Value:
        inputs, outputs = layer.weights.shape
        if inputs != x.shape[0] * x.shape[1] * x.shape[2]:
            raise ModelUnavailableError(f"fc_ expects {inputs} inputs, the network gives {x.shape}")
        flat = self.node("Flatten", [x.name], "flat", axis=1)
        return _Value(
            self.node("MatMul", [flat, self.constant("fc", layer.weights)], "fc"), (outputs, 1, 1)
        )


def _walk(builder: _GraphBuilder, x: _Value, layers: tuple[Layer, ...]) -> _Value:
    """Apply ``layers`` in order; tags remember, skips recall, add_prev adds a remembered."""
    tags: dict[int, _Value] = {}
    for layer in layers:
        if isinstance(layer, Tag):
            tags[layer.id] = x
        elif isinstance(layer, Skip | AddPrev):
            key = layer.id if isinstance(layer, Skip) else layer.tag
            if key not in tags:
                raise ModelUnavailableError(f"dlib network refers to tag{key} before setting it")
            x = tags[key] if isinstance(layer, Skip) else builder.add(x, tags[key])
        elif isinstance(layer, Relu):
            x = _Value(builder.node("Relu", [x.name], "relu"), x.shape)
        elif isinstance(layer, Conv):
            x = builder.conv(x, layer)
        elif isinstance(layer, Affine):
            x = builder.affine(x, layer)
        elif isinstance(layer, Pool):
            x = builder.pool(x, layer)
        else:
            x = builder.fc(x, layer)
    return x


def build_onnx_model(network: DlibNetwork, source_sha256: str) -> Any:
    """An ``onnx.ModelProto`` computing what ``network`` computes (see the module doc).

    Args:
        network: the parsed dlib network.
        source_sha256: SHA-256 of the ``.dat`` it came from, kept in the model's metadata.
    """
    onnx = import_onnx()
    builder = _GraphBuilder(onnx)
    output = _walk(builder, builder.normalise(network), network.layers)
    builder.nodes.append(onnx.helper.make_node("Identity", [output.name], [OUTPUT_NAME]))
    side = [network.input.rows, network.input.cols]
    graph = onnx.helper.make_graph(
        builder.nodes,
        "dlib_face_descriptor",
        [onnx.helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.UINT8, ["N", *side, 3])],
        [
            onnx.helper.make_tensor_value_info(
                OUTPUT_NAME, onnx.TensorProto.FLOAT, ["N", output.shape[0]]
            )
        ],
        builder.initializers,
    )
    model = onnx.helper.make_model(
        graph,
        producer_name="facegate",
        opset_imports=[onnx.helper.make_opsetid("", ONNX_OPSET)],
        ir_version=ONNX_IR_VERSION,
        doc_string="dlib_face_recognition_resnet_model_v1 converted by facegate",
    )
    onnx.helper.set_model_props(model, model_metadata(source_sha256))
    onnx.checker.check_model(model)
    return model


def model_metadata(source_sha256: str) -> dict[str, str]:
    """The metadata a converted model carries, checked whenever it is loaded."""
    return {
        "source_sha256": source_sha256,
        "converter_version": str(CONVERTER_VERSION),
        "model_id": DESCRIPTOR_MODEL_ID,
    }
