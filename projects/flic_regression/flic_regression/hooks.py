"""The seed's two-phase schedule: a frozen ImageNet backbone first, then fine-tuning."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Unfreezes the backbone at the start of epoch ``unfreeze_epoch`` (0-based).

    Configure the backbone frozen (MMPose's ResNet: ``frozen_stages=4`` freezes the stem and
    all four stages); from ``unfreeze_epoch`` on, every backbone parameter trains and its
    BatchNorms update. The optimiser already holds the frozen parameters (mmengine adds all),
    so their learning rate is the config's (e.g. ``paramwise_cfg`` ``backbone`` ``lr_mult``).
    Also right after resuming past that epoch.
    """

    priority = 'NORMAL'

    def __init__(self, unfreeze_epoch: int) -> None:
        if unfreeze_epoch < 0:
            raise ValueError(f'BackboneUnfreezeHook: unfreeze_epoch={unfreeze_epoch} must be '
                             '>= 0')
        self.unfreeze_epoch = unfreeze_epoch

    def before_train_epoch(self, runner) -> None:
        if runner.epoch < self.unfreeze_epoch:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = model.backbone
        if getattr(backbone, 'frozen_stages', -1) == -1 and all(
                p.requires_grad for p in backbone.parameters()):
            return  # already trainable
        if hasattr(backbone, 'frozen_stages'):
            backbone.frozen_stages = -1  # MMPose's ResNet re-freezes in train() otherwise
        for param in backbone.parameters():
            param.requires_grad_(True)
        backbone.train()
        runner.logger.info(f'BackboneUnfreezeHook: backbone trainable from epoch '
                           f'{runner.epoch + 1}')
