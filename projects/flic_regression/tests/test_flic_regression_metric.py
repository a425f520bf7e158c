"""Torso PCK, frame MSE and Accuracy against values computed by hand."""
import numpy as np
import pytest
from flic_fixtures import flic_arrays

from projects.flic_regression.flic_regression import slots
from projects.flic_regression.flic_regression.metric import FLICTorsoPCK
from projects.flic_regression.flic_regression.pck import flic_metrics, pck

IDX = slots.INDEX
NAN = (np.nan, np.nan)


def _example():
    """Three persons; in pixels. A: torso (0,0)-(30,40) = 50, so PCK@0.2 allows 10 px;
    B: torso (100,100)-(100,120) = 20, 4 px; C: no left shoulder, not scored by PCK."""
    gt = np.stack([
        flic_arrays({IDX['lsho']: (0, 0), IDX['rhip']: (30, 40), IDX['lelb']: (10, 10),
                     IDX['lwri']: (20, 20)}),
        flic_arrays({IDX['lsho']: (100, 100), IDX['rhip']: (100, 120), IDX['relb']: (90, 110),
                     IDX['rwri']: (80, 110)}),
        flic_arrays({IDX['nose']: (50, 50)}),
    ])
    pred = np.zeros_like(gt)  # a model predicts every slot; unlabelled ones must not count
    pred[0, IDX['lsho']] = (0, 0)           # 0 px      correct
    pred[0, IDX['rhip']] = (36, 48)         # 10 px     correct (on the threshold)
    pred[0, IDX['lelb']] = (10, 20.5)       # 10.5 px   wrong
    pred[0, IDX['lwri']] = (23, 24)         # 5 px      correct
    pred[1, IDX['lsho']] = (104, 100)       # 4 px      correct (on the threshold)
    pred[1, IDX['rhip']] = (100, 125)       # 5 px      wrong
    pred[1, IDX['relb']] = (90, 110)        # 0 px      correct
    pred[1, IDX['rwri']] = NAN              # none      wrong
    pred[2, IDX['nose']] = (50, 60)
    frame_wh = np.array([[100.0, 200.0]] * 3)
    return pred, gt, frame_wh


def test_torso_pck_matches_hand_computed_values():
    pred, gt, frame_wh = _example()
    out = flic_metrics(pred, gt, frame_wh, slots.TORSO, slots.GROUPS)
    assert out['PCK'] == pytest.approx(5 / 8)          # A: 3 of 4, B: 2 of 4, C unscored
    assert out['PCK_elbow'] == pytest.approx(1 / 2)    # A's left elbow wrong, B's right right
    assert out['PCK_wrist'] == pytest.approx(1 / 2)    # A's right, B's missing
    assert out['Accuracy'] == pytest.approx(7 / 8)     # at 0.5: only B's missing wrist fails
    # squared errors in frame units, x / 100 and y / 200, over the 8 predicted labelled slots
    squared = [0, 0.06**2 + 0.04**2, (10.5 / 200)**2, 0.03**2 + 0.02**2, 0.04**2,
               (5 / 200)**2, 0, (10 / 200)**2]
    assert out['MSE'] == pytest.approx(sum(squared) / 16)
    assert out['missed'] == 0
    assert pck(pred, gt, slots.TORSO, 0.2)[1] == 8


def test_missed_person_counts_as_wrong():
    pred, gt, frame_wh = _example()
    pred[0] = np.nan  # no prediction for A at all
    out = flic_metrics(pred, gt, frame_wh, slots.TORSO, slots.GROUPS)
    assert out['PCK'] == pytest.approx(2 / 8)
    assert out['missed'] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r'\[N, K, 2\]'):
        flic_metrics(pred[:, :5], gt, frame_wh, slots.TORSO, slots.GROUPS)


def test_metric_scores_raw_flic_coordinates():
    pred, gt, frame_wh = _example()
    metric = FLICTorsoPCK()
    samples = [dict(pred_instances=dict(keypoints=np.nan_to_num(p, nan=-1.0)[None]),
                    raw_ann_info=dict(flic_coords=g.tolist(), frame_wh=list(wh)))
               for p, g, wh in zip(pred, gt, frame_wh)]
    metric.process({}, samples)
    out = metric.evaluate(len(samples))
    assert set(out) == {f'flic/{k}' for k in
                        ('PCK', 'PCK_elbow', 'PCK_wrist', 'MSE', 'Accuracy', 'missed')}
    assert out['flic/PCK'] == pytest.approx(5 / 8)  # B's wrist at (-1, -1) is still wrong
    with pytest.raises(KeyError, match='raw_ann_info'):
        FLICTorsoPCK().process({}, [dict(pred_instances=dict(keypoints=pred[:1]))])
    with pytest.raises(ValueError, match='accuracy_thr'):
        FLICTorsoPCK(thr=0.6, accuracy_thr=0.5)


def test_non_finite_or_zero_torso_is_never_correct():
    """A model that finds nobody scores 0, whatever torso sizes the file holds: a person whose
    torso size is inf, NaN or 0 is not scored (old: ``inf <= 0.2 x inf`` counted correct)."""
    inf = np.inf
    gt = np.stack([
        flic_arrays({IDX['lsho']: (0, 0), IDX['rhip']: (30, 40), IDX['lwri']: (20, 20)}),
        flic_arrays({IDX['lsho']: (0, 0), IDX['rhip']: (inf, 40), IDX['lwri']: (5, 5)}),
        flic_arrays({IDX['lsho']: (7, 7), IDX['rhip']: (7, 7), IDX['lwri']: (9, 9)}),
        flic_arrays({IDX['lsho']: (0, 0), IDX['rhip']: (30, 40), IDX['lelb']: (inf, 3)}),
    ])
    nobody = np.full_like(gt, np.nan)
    frame_wh = np.array([[100.0, 200.0]] * 4)
    out = flic_metrics(nobody, gt, frame_wh, slots.TORSO, slots.GROUPS)
    assert out['PCK'] == 0 and out['Accuracy'] == 0 and out['PCK_wrist'] == 0
    assert out['missed'] == 1
    # scored: persons 1 and 4 (3 and 2 finite labelled slots); the inf elbow is unlabelled
    assert pck(nobody, gt, slots.TORSO, 0.2)[1] == 5
    exact = np.where(np.isfinite(gt), gt, 0.0)  # a perfect model on the finite slots
    out = flic_metrics(exact, gt, frame_wh, slots.TORSO, slots.GROUPS)
    assert out['PCK'] == 1 and out['MSE'] == 0  # no inf error from the inf slots
    inf_pred = exact.copy()
    inf_pred[0, IDX['lwri']] = (inf, inf)  # a non-finite prediction is no prediction: wrong
    assert flic_metrics(inf_pred, gt, frame_wh, slots.TORSO, slots.GROUPS)['PCK'] == 4 / 5
