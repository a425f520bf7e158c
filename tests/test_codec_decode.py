"""BoxSimCCLabel's numpy arg-max decoding equals the torch formula it replaced, exactly."""
import numpy as np
import pytest
import torch

from rtmo_plugin.codecs.box_simcc import BoxSimCCLabel


def torch_argmax_decode(codec, simcc_x, simcc_y, bbox=None):
    """The reference: torch's max over bins, the bins gathered at the arg-max."""
    heatmaps_x, heatmaps_y = torch.from_numpy(simcc_x), torch.from_numpy(simcc_y)
    if bbox is None:
        x_bins, y_bins = codec.bins_for_input(len(simcc_x))
    else:
        x_bins, y_bins = codec.bins_for_boxes(torch.from_numpy(bbox))
    max_x, idx_x = heatmaps_x.max(-1)
    max_y, idx_y = heatmaps_y.max(-1)
    keypoints = torch.stack((x_bins.gather(1, idx_x), y_bins.gather(1, idx_y)), -1)
    scores = torch.minimum(max_x, max_y)
    keypoints[scores <= 0] = -1
    return keypoints.numpy(), scores.numpy()


@pytest.mark.parametrize('boxes', [False, True])
@pytest.mark.parametrize('num_instances', [0, 1, 8])
def test_argmax_decode_equals_the_torch_formula(boxes, num_instances):
    codec = BoxSimCCLabel(input_size=(192, 256), simcc_split_ratio=2.0)
    rng = np.random.default_rng(num_instances)
    simcc_x = rng.standard_normal((num_instances, 17, 384)).astype(np.float32)
    simcc_y = np.round(rng.standard_normal((num_instances, 17, 512))).astype(np.float32)  # ties
    simcc_x[:, :3] = -np.abs(simcc_x[:, :3])  # scores <= 0: keypoints -1
    bbox = (rng.random((num_instances, 4)) * 100 + [0, 0, 100, 100]).astype(np.float32) \
        if boxes else None
    keypoints, scores = codec.decode(simcc_x, simcc_y, bbox=bbox)
    ref_keypoints, ref_scores = torch_argmax_decode(codec, simcc_x, simcc_y, bbox)
    assert keypoints.dtype == scores.dtype == np.float32
    assert keypoints.shape == (num_instances, 17, 2) and scores.shape == (num_instances, 17)
    np.testing.assert_array_equal(keypoints, ref_keypoints)
    np.testing.assert_array_equal(scores, ref_scores)
    if num_instances:
        assert (keypoints[:, :3] == -1).all()


def test_argmax_decode_of_one_instance_without_the_batch_axis():
    codec = BoxSimCCLabel(input_size=(8, 6), simcc_split_ratio=2.0)
    simcc_x, simcc_y = np.zeros((2, 16), np.float32), np.zeros((2, 12), np.float32)
    simcc_x[0, 5], simcc_y[0, 7] = 0.9, 0.4
    simcc_x[1, [3, 9]] = 0.5  # a tie: the first maximum wins, as in numpy and MMPose
    simcc_y[1, 2] = 0.8
    keypoints, scores = codec.decode(simcc_x, simcc_y)
    np.testing.assert_array_equal(keypoints, [[[2.5, 3.5], [1.5, 1.0]]])
    np.testing.assert_array_equal(scores, np.float32([[0.4, 0.5]]))
    keypoints[0, 0] = 0  # the result is the caller's to write into
