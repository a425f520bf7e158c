import numpy as np
import pytest
import torch
from mmpose.codecs import SimCCLabel
from mmpose.registry import KEYPOINT_CODECS

from rtmo_plugin.codecs.box_simcc import (
    BoxSimCCLabel,
    bin_offsets,
    expectation_decode,
    laplace_labels,
)


def test_bins_are_laid_across_the_padded_box():
    codec = BoxSimCCLabel(num_bins=(5, 3), box_padding=2.0)
    x_bins, y_bins = codec.bins_for_boxes(torch.tensor([[10.0, 20.0, 30.0, 60.0]]))
    # centre (20, 40), padded size (40, 80)
    assert torch.allclose(x_bins, torch.tensor([[0.0, 10.0, 20.0, 30.0, 40.0]]))
    assert torch.allclose(y_bins, torch.tensor([[0.0, 40.0, 80.0]]))


def test_input_bins_match_simcc_positions():
    codec = BoxSimCCLabel(input_size=(192, 256), simcc_split_ratio=2.0)
    assert codec.num_bins == (384, 512)
    x_bins, y_bins = codec.bins_for_input(2)
    assert x_bins.shape == (2, 384) and y_bins.shape == (2, 512)
    assert torch.allclose(x_bins[0], torch.arange(384) / 2.0, atol=1e-4)
    assert torch.allclose(y_bins[1], torch.arange(512) / 2.0, atol=1e-4)


def test_gaussian_encode_equals_simcc_label_on_bin_centres():
    rng = np.random.default_rng(0)
    keypoints = rng.integers(0, 2 * 190, size=(3, 17, 2)) / 2.0  # on the half-pixel bins
    visible = (rng.random((3, 17)) > 0.2).astype(np.float32)
    cfg = dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0)
    ours = KEYPOINT_CODECS.build(dict(type='BoxSimCCLabel', **cfg)).encode(keypoints, visible)
    ref = SimCCLabel(**cfg).encode(keypoints, visible)
    for key in ('keypoint_x_labels', 'keypoint_y_labels', 'keypoint_weights'):
        assert ours[key].shape == ref[key].shape
        np.testing.assert_allclose(ours[key], ref[key], atol=1e-6)


def test_argmax_decode_equals_simcc_label():
    rng = np.random.default_rng(1)
    simcc_x = rng.random((2, 17, 384)).astype(np.float32)
    simcc_y = rng.random((2, 17, 512)).astype(np.float32)
    cfg = dict(input_size=(192, 256), simcc_split_ratio=2.0)
    kpts, scores = BoxSimCCLabel(**cfg).decode(simcc_x, simcc_y)
    ref_kpts, ref_scores = SimCCLabel(**cfg).decode(simcc_x, simcc_y)
    np.testing.assert_allclose(kpts, ref_kpts, atol=1e-4)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-6)


@pytest.mark.parametrize('kernel', ['gaussian', 'laplace'])
def test_encode_decode_round_trip_in_boxes(kernel):
    codec = BoxSimCCLabel(num_bins=(192, 256), kernel=kernel, sigma=2.0,
                          decode_mode='argmax', box_padding=1.25)
    bbox = np.array([[50.0, 40.0, 150.0, 240.0], [0.0, 0.0, 30.0, 60.0]])
    rng = np.random.default_rng(2)
    keypoints = bbox[:, None, :2] + rng.random((2, 17, 2)) * (bbox[:, None, 2:] - bbox[:, None, :2])
    encoded = codec.encode(keypoints, np.ones((2, 17)), bbox=bbox)
    assert encoded['keypoint_x_labels'].shape == (2, 17, 192)
    assert encoded['keypoint_y_labels'].shape == (2, 17, 256)
    decoded, scores = codec.decode(encoded['keypoint_x_labels'], encoded['keypoint_y_labels'],
                                   bbox=bbox)
    bin_size = (bbox[:, 2:] - bbox[:, :2]) * 1.25 / (np.array([192, 256]) - 1)
    assert np.all(np.abs(decoded - keypoints) <= bin_size[:, None] / 2 + 1e-3)
    assert np.all(scores > 0)


def test_expectation_decode_recovers_keypoint_from_laplace_labels():
    bboxes = torch.tensor([[0.0, 0.0, 100.0, 200.0]])
    codec = BoxSimCCLabel(num_bins=(192, 256))
    x_bins, y_bins = codec.bins_for_boxes(bboxes)
    kpts = torch.tensor([[[37.3, 121.7]]])
    labels_x, labels_y = laplace_labels(kpts, x_bins, y_bins, torch.full((1, 1), 0.01),
                                        torch.tensor([100.0 * 200.0]))
    probs_x = labels_x / labels_x.sum(-1, keepdim=True)
    probs_y = labels_y / labels_y.sum(-1, keepdim=True)
    assert torch.allclose(expectation_decode(probs_x, probs_y, x_bins, y_bins), kpts, atol=0.05)


def test_laplace_labels_formula():
    x_bins, y_bins = torch.tensor([[0.0, 10.0]]), torch.tensor([[0.0, 4.0]])
    kpts = torch.tensor([[[4.0, 4.0]]])
    labels_x, labels_y = laplace_labels(kpts, x_bins, y_bins, torch.tensor([[0.5]]),
                                        torch.tensor([16.0]))
    # deviation = 0.5 * sqrt(16) = 2: exp(-d / 4) / 0.5
    expected_x = torch.tensor([[[2 * np.exp(-1.0), 2 * np.exp(-1.5)]]], dtype=torch.float32)
    expected_y = torch.tensor([[[2 * np.exp(-1.0), 2.0]]], dtype=torch.float32)
    assert torch.allclose(labels_x, expected_x) and torch.allclose(labels_y, expected_y)


def test_invisible_and_far_outside_keypoints_get_zero_weight():
    codec = BoxSimCCLabel(input_size=(64, 64), sigma=2.0)
    keypoints = np.array([[[10.0, 10.0], [20.0, 20.0], [500.0, 10.0]]])
    encoded = codec.encode(keypoints, np.array([[1.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(encoded['keypoint_weights'], [[1.0, 0.0, 0.0]])
    assert encoded['keypoint_x_labels'][0, 1].max() == 0


def test_bin_offsets_span_unit_box():
    offsets = bin_offsets(5)
    assert torch.allclose(offsets, torch.tensor([-0.5, -0.25, 0.0, 0.25, 0.5]))


@pytest.mark.parametrize('kwargs, message', [
    (dict(), 'num_bins'),
    (dict(num_bins=(1, 4)), 'num_bins'),
    (dict(num_bins=(4, 4), kernel='cauchy'), 'kernel'),
    (dict(num_bins=(4, 4), decode_mode='mean'), 'decode_mode'),
    (dict(num_bins=(4, 4), sigma=-1.0), 'sigma'),
    (dict(num_bins=(4, 4), box_padding=0), 'box_padding'),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BoxSimCCLabel(**kwargs)


def test_bad_inputs_raise_clear_errors():
    codec = BoxSimCCLabel(num_bins=(8, 8))
    with pytest.raises(ValueError, match='pass `bbox` or set `input_size`'):
        codec.encode(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r'\[N, K, 2\]'):
        codec.encode(np.zeros((2, 2)), bbox=np.zeros((1, 4)))
    with pytest.raises(ValueError, match='2 boxes for 1 instances'):
        codec.encode(np.zeros((1, 2, 2)), bbox=np.zeros((2, 4)))
    with pytest.raises(ValueError, match='num_bins'):
        codec.decode(np.zeros((1, 2, 7)), np.zeros((1, 2, 8)), bbox=np.zeros((1, 4)))
