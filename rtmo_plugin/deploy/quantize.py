"""int8 RTMO graphs with onnxruntime's quantisation tools.

Static int8 of the *whole* graph drives RTMO's person scores towards 0 (MMPose
#3240): the score, box, visibility and pose-vector convs end in a sigmoid or
feed the DCC's softmax over bins, and an 8-bit grid on their outputs (and on
everything after them: decoding, the DCC, NMS) destroys the small differences
that rank people. Here only the convolutions and matmuls of the backbone, the
neck and the head's conv stacks are quantised; the head's output convs, the DCC
and the decoding stay float32.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Sequence, Union

import numpy as np

QUANTISED_OPS = ('Conv', 'MatMul', 'Gemm')
FLOAT_SCOPES = ('/head_module/out_', '/dcc/')  # node-name prefixes kept in float32


def feature_nodes(onnx_path: Union[str, Path],
                  float_scopes: Sequence[str] = FLOAT_SCOPES) -> List[str]:
    """Names of the Conv/MatMul/Gemm nodes outside ``float_scopes``."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [node.name for node in graph.node if node.op_type in QUANTISED_OPS
            and not any(node.name.startswith(scope) for scope in float_scopes)]


class _Calibration:
    """onnxruntime ``CalibrationDataReader`` over preprocessed input tensors."""

    def __init__(self, input_name: str, tensors: Iterable[np.ndarray]) -> None:
        self._feeds = iter([{input_name: t} for t in tensors])

    def get_next(self):
        return next(self._feeds, None)


def quantize_dynamic_int8(onnx_path: Union[str, Path], output: Union[str, Path],
                          float_scopes: Sequence[str] = FLOAT_SCOPES) -> Path:
    """int8 weights, activations quantised on the fly (no calibration data)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(onnx_path), str(output), weight_type=QuantType.QInt8,
                     nodes_to_quantize=feature_nodes(onnx_path, float_scopes))
    return Path(output)


def quantize_static_int8(onnx_path: Union[str, Path], output: Union[str, Path],
                         calibration: Sequence[np.ndarray],
                         float_scopes: Sequence[str] = FLOAT_SCOPES) -> Path:
    """int8 weights and activations (QDQ), ranges calibrated on ``calibration`` inputs.

    Args:
        calibration: preprocessed ``[1, 3, H, W]`` float32 inputs (e.g.
            ``rtmo_ort.RTMO.preprocess`` of a few real images).
        float_scopes: node-name prefixes left in float32; ``()`` quantises every
            conv and matmul (what MMPose #3240 reports as broken).
    """
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if not calibration:
        raise ValueError('static int8 needs at least one calibration input')
    input_name = ort.InferenceSession(str(onnx_path)).get_inputs()[0].name
    quantize_static(str(onnx_path), str(output), _Calibration(input_name, calibration),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True,
                    calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_quantize=feature_nodes(onnx_path, float_scopes))
    return Path(output)
