"""The batched SimOTA assignment equals MMPose's per-image SimOTAAssigner."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.registry import TASK_UTILS
from mmpose.structures import PoseDataSample

from rtmo_plugin.models.assignment import assign_batch

K, SIZE = 17, 128


def priors_grid():
    init_default_scope('mmpose')
    generator = TASK_UTILS.build(dict(type='MlvlPointGenerator', centralize_points=True,
                                      strides=[8, 16]))
    return torch.cat(generator.grid_priors([(16, 16), (8, 8)], device='cpu', with_stride=True))


def people(g: torch.Generator, count: int, k: int = K) -> PoseDataSample:
    top_left = torch.rand(count, 2, generator=g) * SIZE * 0.6
    size = 16 + torch.rand(count, 2, generator=g) * SIZE * 0.4
    boxes = torch.cat((top_left, top_left + size), -1)
    kpts = top_left[:, None] + torch.rand(count, k, 2, generator=g) * size[:, None]
    vis = (torch.rand(count, k, generator=g) > 0.3).float()
    vis[:1, :] = 0 if count > 2 else vis[:1, :]  # a person without visible keypoints
    sample = PoseDataSample(metainfo=dict(input_size=(SIZE, SIZE)))
    sample.gt_instance_labels = InstanceData(
        bboxes=boxes, keypoints=kpts, keypoints_visible=vis, areas=size.prod(-1),
        labels=torch.zeros(count, dtype=torch.long))
    return sample


@pytest.mark.parametrize('indicator', ['oks', 'iou'])
def test_assign_batch_equals_mmpose_simota(indicator):
    assigner = TASK_UTILS.build(dict(
        type='SimOTAAssigner', dynamic_k_indicator=indicator, use_keypoints_for_center=True,
        vis_weight=1.0, oks_calculator=dict(type='PoseOKS', metainfo='configs/_base_/datasets/'
                                            'coco.py')))
    priors = priors_grid()
    g = torch.Generator().manual_seed(0)
    samples = [people(g, n) for n in (3, 0, 1, 6)]  # padding, an empty image, crowds
    num = len(priors)
    # predictions scattered around the people so that priors compete for them
    bboxes = priors[:, :2].repeat(1, 2) + torch.randn(4, num, 4, generator=g) * 12
    bboxes = torch.cat((bboxes[..., :2], bboxes[..., :2] + 8 + bboxes[..., 2:].abs()), -1)
    keypoints = priors[:, None, :2] + torch.randn(4, num, K, 2, generator=g) * 10
    for i, sample in enumerate(samples):  # good poses give OKS near 1, so dynamic k > 1
        gt_kpts = sample.gt_instance_labels.keypoints
        if len(gt_kpts):
            who = torch.randint(len(gt_kpts), (num // 2,), generator=g)
            keypoints[i, ::2] = gt_kpts[who] + torch.randn(num // 2, K, 2, generator=g) * 2
    scores = torch.rand(4, num, 1, generator=g)
    kpt_vis = torch.rand(4, num, K, generator=g)

    targets = assign_batch(assigner, priors, scores, bboxes, keypoints, kpt_vis, samples)

    pos_mask = targets.pos_mask.view(4, num)
    start = 0
    for i, sample in enumerate(samples):
        if len(sample.gt_instance_labels) == 0:
            assert not pos_mask[i].any()
            continue
        ref = assigner.assign(InstanceData(
            bboxes=bboxes[i], scores=scores[i].sqrt(), priors=priors, keypoints=keypoints[i],
            keypoints_visible=kpt_vis[i]), sample.gt_instance_labels)
        ref_pos = ref['gt_inds'] > 0
        assert torch.equal(pos_mask[i], ref_pos)
        stop = start + int(ref_pos.sum())
        gt = sample.gt_instance_labels
        assert torch.equal(targets.bboxes[start:stop], gt.bboxes[ref['gt_inds'][ref_pos] - 1])
        torch.testing.assert_close(targets.overlaps[start:stop, 0],
                                   ref['max_overlaps'][ref_pos])
        start = stop
    assert start == targets.num_pos > 2 * sum(len(s.gt_instance_labels) for s in samples)


def test_assignment_over_a_keypoint_subset_equals_mmpose_on_that_subset():
    """``oks_keypoints`` (the head's ``assign_keypoints``): a 133-keypoint whole-body
    assignment by the 17 body points is MMPose's SimOTA run on those 17 points alone, and it
    gives more positives than the OKS over all 133 when the face and hands are still wrong."""
    def oks_assigner(metainfo):
        return TASK_UTILS.build(dict(
            type='SimOTAAssigner', dynamic_k_indicator='oks', use_keypoints_for_center=False,
            oks_calculator=dict(type='PoseOKS', metainfo=f'configs/_base_/datasets/{metainfo}')))

    wholebody, body = oks_assigner('coco_wholebody.py'), oks_assigner('coco.py')
    torch.testing.assert_close(wholebody.oks_calculator.sigmas[:K], body.oks_calculator.sigmas)
    priors = priors_grid()
    g = torch.Generator().manual_seed(1)
    samples = [people(g, n, k=133) for n in (2, 4)]
    num = len(priors)
    bboxes = priors[:, :2].repeat(1, 2) + torch.randn(2, num, 4, generator=g) * 12
    bboxes = torch.cat((bboxes[..., :2], bboxes[..., :2] + 8 + bboxes[..., 2:].abs()), -1)
    keypoints = priors[:, None, :2] + torch.randn(2, num, 133, 2, generator=g) * 10
    for i, sample in enumerate(samples):  # good bodies, faces and hands a few pixels off
        gt_kpts = sample.gt_instance_labels.keypoints
        who = torch.randint(len(gt_kpts), (num // 2,), generator=g)
        keypoints[i, ::2] = gt_kpts[who] + torch.randn(num // 2, 133, 2, generator=g) * 1.5
        keypoints[i, ::2, K:] += 6.0
    scores, kpt_vis = torch.rand(2, num, 1, generator=g), torch.rand(2, num, 133, generator=g)
    args = (priors, scores, bboxes, keypoints, kpt_vis, samples)

    by_body = assign_batch(wholebody, *args, oks_keypoints=range(K))
    by_all = assign_batch(wholebody, *args)

    start = 0
    for i, sample in enumerate(samples):
        gt = sample.gt_instance_labels
        ref = body.assign(InstanceData(
            bboxes=bboxes[i], scores=scores[i].sqrt(), priors=priors,
            keypoints=keypoints[i, :, :K], keypoints_visible=kpt_vis[i, :, :K]),
            InstanceData(bboxes=gt.bboxes, keypoints=gt.keypoints[:, :K],
                         keypoints_visible=gt.keypoints_visible[:, :K], areas=gt.areas,
                         labels=gt.labels))
        ref_pos = ref['gt_inds'] > 0
        assert torch.equal(by_body.pos_mask.view(2, num)[i], ref_pos)
        stop = start + int(ref_pos.sum())
        torch.testing.assert_close(by_body.overlaps[start:stop, 0], ref['max_overlaps'][ref_pos])
        start = stop
    assert by_body.num_pos > 2 * by_all.num_pos
