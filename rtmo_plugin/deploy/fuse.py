"""Deploy-time model: re-parameterised and fused, without the training-only branches."""
from __future__ import annotations

import copy

import torch
from torch import nn


def fold_linear_bn(linear: nn.Linear, norm: nn.modules.batchnorm._BatchNorm) -> nn.Linear:
    """``norm(linear(x))`` in eval mode as one ``nn.Linear``."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True)
    bias = linear.bias if linear.bias is not None else torch.zeros_like(norm.running_mean)
    with torch.no_grad():
        fused.weight.copy_(linear.weight * scale[:, None])
        fused.bias.copy_((bias - norm.running_mean) * scale + norm.bias)
    return fused


def fuse_for_deploy(model: nn.Module) -> nn.Module:
    """A fused copy of a plugin RTMO model for inference only.

    - MMPose's ``switch_to_deploy``: RepVGG blocks of the neck become one 3x3 conv,
      the neck's position encodings are precomputed for ``test_cfg.input_size``;
    - every BatchNorm after a conv (mmcv's ``fuse_conv_bn``) and the DCC's
      BatchNorm1d after its linear layer are folded into their weights;
    - the branches used only in training are removed: the regression branch's
      keypoint offsets (``out_kpt_reg``, the SimOTA proxy and its OKS loss) and the
      DCC's learned deviations (``sigma_fc``, the MLE loss). The visibility branch
      (``out_kpt_vis``) stays: it gives the keypoint scores at test time.

    The copy can no longer train (``train()`` would need the removed branches).
    """
    from mmcv.cnn import fuse_conv_bn

    model = copy.deepcopy(model).eval()
    model.switch_to_deploy()
    fuse_conv_bn(model)
    dcc = model.head.dcc
    dcc.pose_to_kpts = fold_linear_bn(dcc.pose_to_kpts[0], dcc.pose_to_kpts[1])
    del model.head.head_module.out_kpt_reg, dcc.sigma_fc
    return model
