"""int8 RTMO graphs with onnxruntime's quantisation tools.

Static int8 of the *whole* graph drives RTMO's person scores towards 0 (MMPose
#3240): the score, box, visibility and pose-vector convs end in a sigmoid or
feed the DCC's softmax over bins, and an 8-bit grid on their outputs (and on
everything after them: decoding, the DCC, NMS) destroys the small differences
that rank people. Here only the backbone, the neck and the head's conv stacks
are quantised (all their ops, so that the SiLUs between convs are int8 too and
onnxruntime can fuse DequantizeLinear -> Conv -> QuantizeLinear into one
QLinearConv; quantising only the convs leaves float convs on dequantised
weights, slower than float32); the head's output convs, the DCC, decoding and
NMS stay float32.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

# node-name prefixes of the feature extractor (names that torch.onnx gives the modules)
FEATURE_SCOPES = ('/backbone/', '/neck/', '/head_module/conv_')
DYNAMIC_OPS = ('Conv', 'MatMul', 'Gemm')


def nodes_in(onnx_path: Union[str, Path], scopes: Optional[Sequence[str]],
             op_types: Optional[Sequence[str]] = None) -> Optional[List[str]]:
    """Names of the nodes under ``scopes`` (``None``: every node)."""
    import onnx

    if scopes is None:
        return None
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [node.name for node in graph.node
            if any(node.name.startswith(scope) for scope in scopes)
            and (op_types is None or node.op_type in op_types)]


class _Calibration:
    """onnxruntime ``CalibrationDataReader`` over preprocessed input tensors."""

    def __init__(self, input_name: str, tensors: Iterable[np.ndarray]) -> None:
        self._feeds = iter([{input_name: t} for t in tensors])

    def get_next(self):
        return next(self._feeds, None)


def preprocess_for_quantisation(onnx_path: Union[str, Path], output: Union[str, Path]) -> Path:
    """onnxruntime's quantisation pre-processing (constant folding, shape inference).

    Without it most conv biases are ``Constant`` nodes rather than initializers;
    the quantiser then leaves those convs in float32 (measured on RTMO-s: 10 of
    80 convs became ``QLinearConv`` and int8 ran slower than float32; with it,
    72 of 80). Symbolic shape inference is skipped: it cannot follow the
    data-dependent NMS output.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quant_pre_process(str(onnx_path), str(output), skip_symbolic_shape=True)
    return Path(output)


def quantize_dynamic_int8(onnx_path: Union[str, Path], output: Union[str, Path],
                          scopes: Optional[Sequence[str]] = FEATURE_SCOPES) -> Path:
    """int8 weights, activations quantised on the fly (no calibration data).

    Convs become ``ConvInteger``, which onnxruntime runs far slower than float
    convs on x86; dynamic int8 pays off for matmul-heavy models, not RTMO.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source = preprocess_for_quantisation(onnx_path, Path(tmp) / 'pre.onnx')
        quantize_dynamic(str(source), str(output), weight_type=QuantType.QInt8,
                         nodes_to_quantize=nodes_in(source, scopes, DYNAMIC_OPS))
    return Path(output)


def quantize_static_int8(onnx_path: Union[str, Path], output: Union[str, Path],
                         calibration: Sequence[np.ndarray],
                         scopes: Optional[Sequence[str]] = FEATURE_SCOPES) -> Path:
    """int8 weights and activations (QDQ), ranges calibrated on ``calibration`` inputs.

    Args:
        calibration: preprocessed ``[1, 3, H, W]`` float32 inputs (e.g.
            ``rtmo_ort.RTMO.preprocess`` of a few real images).
        scopes: node-name prefixes to quantise; ``None`` quantises the whole
            graph (what MMPose #3240 reports as broken).
    """
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if not calibration:
        raise ValueError('static int8 needs at least one calibration input')
    input_name = ort.InferenceSession(str(onnx_path)).get_inputs()[0].name
    with tempfile.TemporaryDirectory() as tmp:
        source = preprocess_for_quantisation(onnx_path, Path(tmp) / 'pre.onnx')
        # uint8 activations x int8 weights: the pair onnxruntime fuses into QLinearConv on
        # x86 (int8 x int8 QDQ stayed float convs here, 4x slower)
        quantize_static(str(source), str(output), _Calibration(input_name, calibration),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_quantize=nodes_in(source, scopes))
    return Path(output)
