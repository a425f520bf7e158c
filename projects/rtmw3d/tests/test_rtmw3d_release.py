"""MMPose's released RTMW3D loads and decodes here: a state dict with the keys and shapes of
MMPose's ``rtmw3d-l_8xb64_cocktail14-384x288`` model loads into the project's RTMW3D-L with
``strict=True``, the head computes what MMPose's ``RTMW3DHead`` computes from the same
weights, and the codec's z bins, labels and decoding follow MMPose's ``SimCC3DLabel``.

MMPose's ``projects/rtmpose3d`` is not installed with the wheel: its head is rebuilt here
from MMPose's own installed modules (``ConvModule``, ``ScaleNorm``, ``RTMCCBlock``) with the
arguments its ``RTMW3DHead.__init__`` passes them, and its formulas are written out in the
tests (from ``simcc_3d_label.py`` and ``rtmw3d_head.py`` of MMPose's repository)."""
import numpy as np
import pytest
import torch
from mmcv.cnn import ConvModule
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.models.utils.rtmcc_block import RTMCCBlock, ScaleNorm
from mmpose.registry import MODELS
from rtmw3d_fixtures import CONFIGS
from torch import nn

from projects.rtmw3d.rtmw3d import BoxSimCC3DLabel

# MMPose's rtmw3d-l_8xb64_cocktail14-384x288.py, the values that shape the state dict
RELEASE_INPUT_SIZE = (288, 384, 288)  # (w, h, d): d sets the z bins
RELEASE_SPLIT_RATIO = 2.0
RELEASE_Z_RANGE = 2.1744869
RELEASE_BACKBONE = dict(type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=1.,
                        widen_factor=1., channel_attention=True, norm_cfg=dict(type='BN'),
                        act_cfg=dict(type='SiLU'))
RELEASE_NECK = dict(type='CSPNeXtPAFPN', in_channels=[256, 512, 1024], out_channels=None,
                    out_indices=(1, 2), num_csp_blocks=2, expand_ratio=0.5,
                    norm_cfg=dict(type='BN'),  # SyncBN in the release: the same state keys
                    act_cfg=dict(type='SiLU', inplace=True))
RELEASE_HEAD = dict(in_channels=1024, out_channels=133, kernel=7, hidden_dims=256, s=128,
                    expansion_factor=2, dropout_rate=0.1)
L_CONFIG = CONFIGS / 'rtmw3d-l_8xb64-270e_cocktail14-384x288.py'


class ReleaseHead(nn.Module):
    """MMPose's ``RTMW3DHead``'s modules, built as its ``__init__`` builds them, and its
    ``forward``."""

    def __init__(self, in_channels, out_channels, kernel, hidden_dims, s, expansion_factor,
                 dropout_rate):
        super().__init__()
        w, h, d = RELEASE_INPUT_SIZE
        flatten_dims = (w // 32) * (h // 32)
        conv = dict(kernel_size=kernel, stride=1, padding=kernel // 2,
                    norm_cfg=dict(type='BN', requires_grad=True), act_cfg=dict(type='ReLU'))
        self.ps = nn.PixelShuffle(2)
        self.conv_dec = ConvModule(in_channels // 4, in_channels // 4, **conv)
        self.final_layer = ConvModule(in_channels, out_channels, **conv)
        self.final_layer2 = ConvModule(in_channels // 2 + in_channels // 4, out_channels,
                                       **conv)
        self.mlp = nn.Sequential(ScaleNorm(flatten_dims),
                                 nn.Linear(flatten_dims, hidden_dims // 2, bias=False))
        self.mlp2 = nn.Sequential(ScaleNorm(flatten_dims * 4),
                                  nn.Linear(flatten_dims * 4, hidden_dims // 2, bias=False))
        self.gau = RTMCCBlock(out_channels, hidden_dims, hidden_dims, s=s,
                              expansion_factor=expansion_factor, dropout_rate=dropout_rate,
                              drop_path=0., attn_type='self-attn', act_fn='SiLU',
                              use_rel_bias=False, pos_enc=False)
        self.cls_x = nn.Linear(hidden_dims, int(w * RELEASE_SPLIT_RATIO), bias=False)
        self.cls_y = nn.Linear(hidden_dims, int(h * RELEASE_SPLIT_RATIO), bias=False)
        self.cls_z = nn.Linear(hidden_dims, int(d * RELEASE_SPLIT_RATIO), bias=False)

    def forward(self, feats):
        enc_b, enc_t = feats
        feats_t = self.mlp(torch.flatten(self.final_layer(enc_t), 2))
        enc_b = torch.cat([self.conv_dec(self.ps(enc_t)), enc_b], dim=1)
        feats_b = self.mlp2(torch.flatten(self.final_layer2(enc_b), 2))
        tokens = self.gau(torch.cat([feats_t, feats_b], dim=2))
        return self.cls_x(tokens), self.cls_y(tokens), self.cls_z(tokens)


def release_decode(x, y, z):
    """MMPose's ``SimCC3DLabel.decode`` (arg-max on each axis, no DARK): input pixels and
    metres relative to the root, scores the smaller x/y maximum."""
    locs = np.stack([a.argmax(-1) for a in (x, y, z)], -1).astype(np.float32)
    scores = np.minimum(x.max(-1), y.max(-1))
    locs /= RELEASE_SPLIT_RATIO
    locs[..., 2] = (locs[..., 2] / (RELEASE_INPUT_SIZE[2] / 2) - 1) * RELEASE_Z_RANGE
    return locs, scores


def release_z_bin(relative_depth):
    """The z bin MMPose's ``SimCC3DLabel.encode`` centres a label on."""
    z_in = (relative_depth / RELEASE_Z_RANGE + 1) * (RELEASE_INPUT_SIZE[2] / 2)
    return np.around(z_in * RELEASE_SPLIT_RATIO).astype(np.int64)


def release_state_shapes():
    """Key -> shape of MMPose's RTMW3D-L state dict."""
    parts = dict(backbone=MODELS.build(RELEASE_BACKBONE), neck=MODELS.build(RELEASE_NECK),
                 head=ReleaseHead(**RELEASE_HEAD))
    return {f'{name}.{key}': tuple(value.shape) for name, part in parts.items()
            for key, value in part.state_dict().items()}


@pytest.fixture(scope='module')
def l_model():
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(L_CONFIG))
    cfg.model.backbone.init_cfg = None
    cfg.model.neck.norm_cfg = dict(type='BN')
    return MODELS.build(cfg.model).eval()


def test_released_rtmw3d_l_state_dict_loads_strictly(l_model):
    shapes = release_state_shapes()
    assert shapes['head.cls_z.weight'] == (576, 256)
    assert shapes['head.cls_x.weight'] == (576, 256) and shapes['head.cls_y.weight'] == (768, 256)
    torch.manual_seed(0)
    state = {key: torch.randn(shape) if len(shape) else torch.tensor(3)
             for key, shape in shapes.items()}
    result = l_model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(l_model.head.cls_z.weight, state['head.cls_z.weight'])


def test_head_computes_what_the_released_head_computes_and_decodes_alike(l_model):
    torch.manual_seed(1)
    release = ReleaseHead(**RELEASE_HEAD).eval()
    for p in release.parameters():
        nn.init.normal_(p, std=0.05)
    head = l_model.head
    head.load_state_dict(release.state_dict(), strict=True)
    feats = (torch.randn(2, 512, 24, 18), torch.randn(2, 1024, 12, 9))
    with torch.no_grad():
        expected = release(feats)
        got = head(feats)
    for a, b in zip(got, expected):
        assert torch.allclose(a, b, atol=1e-5)
    x, y, z = (t.numpy() for t in expected)
    keypoints, scores = head.decoder.decode(x, y, z)
    release_keypoints, release_scores = release_decode(x, y, z)
    positive = release_scores > 0  # MMPose marks the rest as missing (bin -1)
    assert positive.mean() > 0.5
    assert np.allclose(keypoints[positive], release_keypoints[positive], atol=1e-5)
    assert np.allclose(scores, release_scores)


def test_z_bins_are_the_released_grid():
    codec = BoxSimCC3DLabel()
    assert codec.num_bins == (576, 768, 576)
    index = np.arange(576)
    official = (index / (RELEASE_INPUT_SIZE[2] * RELEASE_SPLIT_RATIO / 2) - 1) * RELEASE_Z_RANGE
    assert np.allclose(codec.depth_bins(dtype=torch.float64).numpy(), official, atol=1e-12)
    assert codec.depth_bins()[288] == 0  # the root's bin


def test_a_z_label_decodes_to_the_released_depth():
    codec = BoxSimCC3DLabel(root_indices=(0, 1))
    rng = np.random.default_rng(0)
    root = 5.0
    relative = rng.uniform(-2.0, 2.0, (1, 40))
    relative[0, :2] = [0.3, -0.3]  # the root (mean of keypoints 0 and 1) at 5.0 m
    keypoints_3d = np.concatenate([np.full((1, 40, 2), 0.1), root + relative[..., None]], -1)
    encoded = codec.encode(np.full((1, 40, 2), 100.0), None, keypoints_3d)
    assert encoded['root_depth'] == pytest.approx([root])
    labels = encoded['keypoint_z_labels']
    assert (labels.argmax(-1) == release_z_bin(relative)).all()  # MMPose's label centre
    decoded, _ = codec.decode(encoded['keypoint_x_labels'], encoded['keypoint_y_labels'],
                              labels)
    official = (release_z_bin(relative) / RELEASE_SPLIT_RATIO / (RELEASE_INPUT_SIZE[2] / 2)
                - 1) * RELEASE_Z_RANGE
    assert np.allclose(decoded[..., 2], official, atol=1e-6)


def test_the_symmetric_layout_stays_an_explicit_option():
    codec = BoxSimCC3DLabel(input_size=(96, 128), depth_layout='symmetric')
    assert codec.num_bins[2] == 193
    depth = codec.depth_bins()
    assert depth[96] == pytest.approx(0, abs=1e-9) and depth[0] == pytest.approx(-2.1744869)
    assert depth[-1] == pytest.approx(2.1744869)
    tiny = Config.fromfile(str(CONFIGS / 'rtmw3d-tiny_1xb16-32e_synthetic-128x96.py'))
    assert tiny.model.head.decoder.depth_layout == 'symmetric'
    with pytest.raises(ValueError, match='depth_layout'):
        BoxSimCC3DLabel(depth_layout='odd')
