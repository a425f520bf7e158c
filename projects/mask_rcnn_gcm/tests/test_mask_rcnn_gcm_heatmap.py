"""Heatmap targets, their decoding, and the loss against torchvision's Keypoint R-CNN."""
import torch
from torchvision.models.detection.roi_heads import keypointrcnn_loss

from projects.mask_rcnn_gcm.mask_rcnn_gcm.models import (
    decode_heatmaps,
    encode_targets,
    heatmap_loss,
)

SIZE = 56


def random_boxes(gen, count):
    origin = torch.rand(count, 2, generator=gen) * 200
    extent = 20 + torch.rand(count, 2, generator=gen) * 150
    return torch.cat([origin, origin + extent], 1)


def test_encode_then_decode_is_within_one_cell():
    gen = torch.Generator().manual_seed(0)
    boxes = random_boxes(gen, 40)
    rel = torch.rand(40, 17, 2, generator=gen)
    keypoints = boxes[:, None, :2] + rel * (boxes[:, None, 2:] - boxes[:, None, :2])
    keypoints[0, 0] = boxes[0, 2:]             # on the far corner: the last cell
    visible = torch.ones(40, 17)
    targets = encode_targets(keypoints, visible, boxes, SIZE)
    assert targets.valid.all()
    logits = torch.full((40, 17, SIZE * SIZE), -10.0)
    logits.scatter_(-1, targets.cells[..., None], 10.0)
    decoded, scores = decode_heatmaps(logits.view(40, 17, SIZE, SIZE), boxes)
    cell = (boxes[:, 2:] - boxes[:, :2]) / SIZE
    assert ((decoded - keypoints).abs() <= cell[:, None]).all()
    assert torch.allclose(scores, torch.ones_like(scores), atol=1e-3)


def test_decoding_moves_towards_the_higher_neighbour():
    logits = torch.zeros(1, 1, SIZE, SIZE)
    logits[0, 0, 10, 20], logits[0, 0, 10, 21], logits[0, 0, 9, 20] = 5.0, 3.0, 1.0
    box = torch.tensor([[0.0, 0.0, SIZE * 2.0, SIZE * 2.0]])  # two pixels per cell
    decoded, _ = decode_heatmaps(logits, box)
    assert decoded[0, 0].tolist() == [2 * 20.75, 2 * 10.25]


def test_invisible_and_outside_keypoints_have_no_target():
    boxes = torch.tensor([[10.0, 10.0, 66.0, 66.0]])
    keypoints = torch.tensor([[[20.0, 20.0], [5.0, 20.0], [20.0, 70.0], [30.0, 30.0]]])
    targets = encode_targets(keypoints, torch.tensor([[2.0, 2.0, 1.0, 0.0]]), boxes, SIZE)
    assert targets.valid.tolist() == [[True, False, False, False]]
    assert targets.cells[0, 0].item() == 10 * SIZE + 10


def test_loss_equals_torchvision_keypointrcnn_loss():
    gen = torch.Generator().manual_seed(1)
    proposals, gt_keypoints, matched = [], [], []
    for num_gt, num_rois in ((3, 7), (2, 5)):
        gt = torch.rand(num_gt, 17, 3, generator=gen) * 100 + 50
        gt[..., 2] = torch.randint(0, 3, (num_gt, 17), generator=gen).float()
        idx = torch.randint(0, num_gt, (num_rois,), generator=gen)
        # proposals around their person: some keypoints fall outside
        rois = torch.cat([gt[idx, :, :2].amin(1), gt[idx, :, :2].amax(1)], 1)
        rois = rois + torch.randn(num_rois, 4, generator=gen) * 15
        gt[idx[0], 3, :2] = rois[0, 2:]                            # on a box's far edges
        gt[idx[0], 3, 2] = 2
        proposals.append(rois)
        gt_keypoints.append(gt)
        matched.append(idx)
    logits = torch.randn(12, 17, SIZE, SIZE, generator=gen, requires_grad=True)
    reference = keypointrcnn_loss(logits, proposals, gt_keypoints, matched)

    keypoints = torch.cat([gt[idx] for gt, idx in zip(gt_keypoints, matched)])
    targets = encode_targets(keypoints[..., :2], keypoints[..., 2], torch.cat(proposals),
                             SIZE)
    ours = heatmap_loss(logits, targets)
    assert targets.valid.sum() > 20 and (~targets.valid).sum() > 20
    torch.testing.assert_close(ours, reference)
    grad_ours, = torch.autograd.grad(ours, logits)
    grad_ref, = torch.autograd.grad(keypointrcnn_loss(logits, proposals, gt_keypoints,
                                                      matched), logits)
    torch.testing.assert_close(grad_ours, grad_ref)


def test_loss_without_valid_keypoints_is_zero_with_gradients():
    logits = torch.randn(2, 17, SIZE, SIZE, requires_grad=True)
    targets = encode_targets(torch.zeros(2, 17, 2), torch.zeros(2, 17),
                             torch.tensor([[0.0, 0, 10, 10]] * 2), SIZE)
    loss = heatmap_loss(logits, targets)
    loss.backward()
    assert loss.item() == 0 and logits.grad is not None
