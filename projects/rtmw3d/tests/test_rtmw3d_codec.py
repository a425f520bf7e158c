"""BoxSimCC3DLabel: bin geometry from the plugin's codec, round trips, z weights, root depth;
the package registers under names of its own."""
import numpy as np
import pytest
import torch
from mmpose.registry import DATASETS, KEYPOINT_CODECS, METRICS, MODELS, TRANSFORMS

import projects.rtmw3d.rtmw3d as rtmw3d
from projects.rtmw3d.rtmw3d import BoxSimCC3DLabel
from projects.rtmw3d.rtmw3d.estimator import back_project


def test_paper_defaults_and_xy_bins_are_the_plugin_codecs():
    codec = BoxSimCC3DLabel()
    assert codec.input_size == (288, 384)
    assert codec.num_bins == (576, 768, 576)  # MMPose's RTMW3D layout
    assert codec.depth_range == pytest.approx(2.1744869)
    assert codec.default_root_depth == pytest.approx(5.14388)
    x_bins, y_bins = codec.xy.bins_for_input(1)
    assert torch.allclose(x_bins[0], torch.arange(576) / 2.0, atol=1e-4)  # SimCC's i / 2
    depth = codec.depth_bins()
    assert depth[0] == pytest.approx(-2.1744869)
    assert depth[-1] == pytest.approx(2.1744869 * 287 / 288)


def test_round_trip_on_bin_centres_within_half_a_bin_on_every_axis():
    codec = BoxSimCC3DLabel(input_size=(48, 64), sigma=2.0, root_indices=(0,))
    rng = np.random.default_rng(0)
    x_bins, y_bins = (b[0].numpy() for b in codec.xy.bins_for_input(1))
    z_bins = codec.depth_bins().numpy()
    idx = [rng.integers(10, len(b) - 10, (2, 5)) for b in (x_bins, y_bins, z_bins)]
    idx[2][:, 0] = len(z_bins) // 2
    keypoints = np.stack([x_bins[idx[0]], y_bins[idx[1]]], -1)
    relative = z_bins[idx[2]]
    assert np.abs(relative[:, 0]).max() < 1e-7  # keypoint 0 is the root: the middle bin
    keypoints_3d = np.concatenate([keypoints, 4.0 + relative[..., None]], -1)
    encoded = codec.encode(keypoints, None, keypoints_3d)
    assert encoded['keypoint_z_weights'].min() == 1.0
    assert np.allclose(encoded['root_depth'], 4.0)
    decoded, scores = codec.decode(encoded['keypoint_x_labels'], encoded['keypoint_y_labels'],
                                   encoded['keypoint_z_labels'])
    half = np.array([x_bins[1] - x_bins[0], y_bins[1] - y_bins[0], z_bins[1] - z_bins[0]]) / 2
    error = np.abs(decoded - np.concatenate([keypoints, relative[..., None]], -1))
    assert (error <= half + 1e-5).all()
    assert (scores > 0).all()


def test_off_centre_points_round_trip_within_half_a_bin():
    codec = BoxSimCC3DLabel(input_size=(48, 64), sigma=2.0, root_indices=(0, 1))
    rng = np.random.default_rng(1)
    keypoints = rng.uniform(5, 40, (3, 6, 2))
    keypoints_3d = np.concatenate([keypoints, rng.uniform(4.5, 5.5, (3, 6, 1))], -1)
    encoded = codec.encode(keypoints, np.ones((3, 6)), keypoints_3d)
    decoded, _ = codec.decode(encoded['keypoint_x_labels'], encoded['keypoint_y_labels'],
                              encoded['keypoint_z_labels'])
    root = keypoints_3d[:, :2, 2].mean(1, keepdims=True)
    z_bin = float(codec.depth_bins()[1] - codec.depth_bins()[0])
    assert np.abs(decoded[..., :2] - keypoints).max() <= 0.25 + 1e-5  # half of 1/2 px bins
    assert np.abs(decoded[..., 2] - (keypoints_3d[..., 2] - root)).max() <= z_bin / 2 + 1e-6


def test_samples_without_3d_get_zero_z_weight():
    codec = BoxSimCC3DLabel(input_size=(48, 64))
    encoded = codec.encode(np.full((1, 133, 2), 20.0), np.ones((1, 133)))
    assert encoded['keypoint_z_weights'].shape == (1, 133)
    assert (encoded['keypoint_z_weights'] == 0).all()
    assert (encoded['keypoint_weights'] == 1).all()  # x and y still train
    assert encoded['root_depth'] == pytest.approx([5.14388])
    assert not encoded['keypoint_z_labels'].any()


def test_depth_out_of_range_and_invisible_get_zero_z_weight():
    codec = BoxSimCC3DLabel(input_size=(48, 64), root_indices=(0,))
    keypoints_3d = np.array([[[0, 0, 5.0], [0, 0, 5.3], [0, 0, 9.0]]])
    visible = np.array([[1.0, 0.0, 1.0]])
    encoded = codec.encode(np.full((1, 3, 2), 20.0), visible, keypoints_3d)
    assert encoded['keypoint_z_weights'].tolist() == [[1.0, 0.0, 0.0]]


def test_a_keypoint_at_the_root_decodes_to_the_root_depth():
    codec = BoxSimCC3DLabel(input_size=(48, 64), root_indices=(0, 1))
    keypoints_3d = np.array([[[0.2, 0.1, 4.6], [-0.2, 0.1, 5.0], [0.0, 0.5, 4.8]]])
    encoded = codec.encode(np.full((1, 3, 2), 20.0), None, keypoints_3d)
    decoded, _ = codec.decode(encoded['keypoint_x_labels'], encoded['keypoint_y_labels'],
                              encoded['keypoint_z_labels'])
    assert decoded[0, 2, 2] == pytest.approx(0.0, abs=1e-6)  # keypoint 2 sits at the root
    camera = back_project(np.array([[320.0, 240.0]]), decoded[0, 2:3, 2] + encoded['root_depth'],
                          f=(500.0, 500.0), c=(320.0, 240.0))
    assert camera[0, 2] == pytest.approx(4.8, abs=1e-6)


def test_expectation_decoding_is_the_mean_of_the_scaled_softmax():
    codec = BoxSimCC3DLabel(input_size=(48, 64), sigma=2.0, root_indices=(0, 1),
                            decode_mode='expectation', beta=10.0)
    keypoints = np.array([[[12.3, 40.7], [30.1, 8.4], [20.0, 33.3]]])
    keypoints_3d = np.concatenate([keypoints, [[[5.0], [5.2], [4.63]]]], -1)
    encoded = codec.encode(keypoints, None, keypoints_3d)
    # logits whose softmax(10 x) are the labels: the expectation is the labels' centre
    logits = [np.log(np.maximum(encoded[f'keypoint_{a}_labels'], 1e-12)) / 10.0 for a in 'xyz']
    decoded, scores = codec.decode(*logits)
    assert np.abs(decoded[..., :2] - keypoints).max() < 0.02  # off-bin, unlike the arg-max
    assert np.abs(decoded[..., 2] - (keypoints_3d[..., 2] - 5.1)).max() < 1e-3
    assert (scores > 0).all() and (scores <= 1).all()
    # two equal modes: the expectation sits between them, the arg-max on one
    z = np.full((1, 1, codec.num_bins[2]), -10.0, np.float32)
    z[..., [20, 60]] = 1.0
    x, y = logits[0][:, :1], logits[1][:, :1]
    middle = codec.depth_bins()[40].item()
    assert codec.decode(x, y, z)[0][0, 0, 2] == pytest.approx(middle, abs=1e-4)
    argmax = BoxSimCC3DLabel(input_size=(48, 64), root_indices=(0, 1))
    assert argmax.decode(x, y, z)[0][0, 0, 2] == pytest.approx(codec.depth_bins()[20].item())


@pytest.mark.parametrize('kwargs, message', [
    (dict(sigma=(1.0, 2.0)), 'sigma'),
    (dict(depth_range=0), 'depth_range'),
    (dict(num_depth_bins=1), 'num_depth_bins'),
    (dict(beta=0), 'beta'),
    (dict(decode_mode='mean'), 'decode_mode'),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BoxSimCC3DLabel(input_size=(48, 64), **kwargs)


def test_bad_keypoints_3d_shape_is_explained():
    codec = BoxSimCC3DLabel(input_size=(48, 64))
    with pytest.raises(ValueError, match=r'keypoints_3d must be \[N, K, 3\]'):
        codec.encode(np.zeros((1, 3, 2)), None, np.zeros((1, 4, 3)))


def test_registered_names_are_ours():
    """Registering without force would have failed on a name MMPose already uses."""
    registries = dict(KEYPOINT_CODECS=KEYPOINT_CODECS, MODELS=MODELS, TRANSFORMS=TRANSFORMS,
                      METRICS=METRICS, DATASETS=DATASETS)
    for registry_name, names in rtmw3d.REGISTERED.items():
        for name in names:
            cls = registries[registry_name].get(name)
            assert cls is not None and cls.__module__.startswith('projects.rtmw3d.rtmw3d'), name
            assert cls is getattr(rtmw3d, name)
