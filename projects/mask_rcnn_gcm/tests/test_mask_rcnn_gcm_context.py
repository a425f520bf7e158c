"""The Global Context Module: global receptive field, relative positions, the head switch."""
import pytest
import torch
from mmdet.registry import MODELS
from torch import nn

from projects.mask_rcnn_gcm.mask_rcnn_gcm.models import GlobalContextModule, KeypointRCNNHeatmapHead

SIZE = 14


def outputs_after_perturbing_each_position(module, channels=16):
    """Output at (0, 0) for the base input and for each one-position perturbation."""
    torch.manual_seed(0)
    base = torch.randn(1, channels, SIZE, SIZE)
    batch = base.repeat(SIZE * SIZE + 1, 1, 1, 1)
    for pos in range(SIZE * SIZE):
        batch[pos + 1, :, pos // SIZE, pos % SIZE] += 3.0
    with torch.no_grad():
        out = module.eval()(batch)[:, :, 0, 0]
    return out[0], out[1:]


def test_gcm_output_depends_on_every_position_a_conv_stack_only_on_its_neighbours():
    gcm = GlobalContextModule(16, num_heads=4, roi_size=SIZE)
    base, perturbed = outputs_after_perturbing_each_position(gcm)
    changed = (perturbed - base).abs().amax(1) > 1e-5
    assert changed.all(), f'{(~changed).sum()} positions do not reach (0, 0)'

    convs = nn.Sequential(*[m for _ in range(4) for m in (nn.Conv2d(16, 16, 3, padding=1),
                                                          nn.ReLU())])
    base, perturbed = outputs_after_perturbing_each_position(convs)
    changed = ((perturbed - base).abs().amax(1) > 1e-5).view(SIZE, SIZE)
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing='ij')
    far = torch.maximum(rows, cols) > 4            # beyond four 3x3 convs' reach
    assert not changed[far].any() and changed[~far].any()


def test_relative_logits_match_a_direct_computation():
    torch.manual_seed(1)
    gcm = GlobalContextModule(8, num_heads=2, roi_size=5)
    q = torch.randn(2, 2, 4, 5, 5)
    fast = gcm.relative_logits(q)
    slow = torch.empty(2, 2, 25, 25)
    for i in range(5):
        for j in range(5):
            for k in range(5):
                for m in range(5):
                    emb = gcm.rel_rows[k - i + 4] + gcm.rel_cols[m - j + 4]
                    slow[:, :, i * 5 + j, k * 5 + m] = (q[:, :, :, i, j] * emb).sum(-1)
    torch.testing.assert_close(fast, slow)


def test_wrong_roi_size_names_the_fix():
    with pytest.raises(ValueError, match='roi_size'):
        GlobalContextModule(16, roi_size=14)(torch.zeros(1, 16, 7, 7))


@pytest.mark.parametrize('context', [None, dict(type='GlobalContextModule', roi_size=SIZE),
                                     dict(type='ContextBlock', ratio=1. / 4)])
def test_head_shapes_and_context_switch(context):
    head = KeypointRCNNHeatmapHead(num_keypoints=17, in_channels=8, conv_channels=16,
                                   num_convs=8, context=context)
    assert head(torch.randn(3, 8, SIZE, SIZE)).shape == (3, 17, 56, 56)
    if context is None:
        assert not head.contexts
    else:
        assert sorted(head.contexts) == ['0', '4']
        assert type(head.contexts['0']) is MODELS.get(context['type'])


def test_stem_is_independent_of_the_context_modules():
    kwargs = dict(num_keypoints=17, in_channels=8, conv_channels=16, stem=True)
    plain = KeypointRCNNHeatmapHead(**kwargs).state_dict()
    gcm = KeypointRCNNHeatmapHead(**kwargs, context=dict(type='GlobalContextModule',
                                                         roi_size=SIZE)).state_dict()
    assert plain['stem.0.weight'].shape == (16, 8, 1, 1)
    assert {k: v.shape for k, v in gcm.items() if not k.startswith('contexts.')} \
        == {k: v.shape for k, v in plain.items()}
    # without the stem, the first context module works on the RoI features' 8 channels
    bare = KeypointRCNNHeatmapHead(num_keypoints=17, in_channels=8, conv_channels=16,
                                   context=dict(type='GlobalContextModule', roi_size=SIZE))
    assert not any(k.startswith('stem') for k in bare.state_dict())
    assert bare.contexts['0'].qkv.in_channels == 8 and bare.contexts['4'].qkv.in_channels == 16
    assert bare(torch.randn(2, 8, SIZE, SIZE)).shape == (2, 17, 56, 56)
