"""Config against model, checked before any step: every input size of the pipelines and of
``model.test_cfg`` is a multiple of the head's largest featmap stride
(:class:`InputSizeCheckHook`, ``default_hooks.input_size_check`` in the base configs).

The other checks of a config against its model: the keypoint sets
(:class:`rtmo_plugin.metainfo.KeypointMetainfoCheckHook`) and the run settings
(:mod:`.run_settings`).
"""
from __future__ import annotations

from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..utils import unwrap
from .run_settings import SettingsError


def _sizes(node, path: str):
    """``(config key, size)`` of every ``input_size`` / ``img_scale`` under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f'{path}.{key}' if path else str(key)
            if key in ('input_size', 'img_scale') and isinstance(value, (list, tuple)):
                yield where, tuple(value)
            else:
                yield from _sizes(value, where)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _sizes(value, f'{path}[{i}]')


def check_input_sizes(cfg, stride: int,
                      keys=('train_dataloader', 'val_dataloader', 'test_dataloader',
                            'custom_hooks', 'model')) -> None:
    """Raises :class:`~.run_settings.SettingsError` naming every pipeline / test size of
    ``cfg`` that is not a multiple of ``stride`` (the head's largest featmap stride)."""
    bad = [f'{where}={list(size)}' for key in keys if cfg.get(key) is not None
           for where, size in _sizes(cfg.get(key), key)
           if any(not isinstance(v, int) or v <= 0 or v % stride for v in size)]
    if bad:
        raise SettingsError(
            f'input sizes must be positive multiples of the largest featmap stride ({stride}) '
            f'of model.head: {", ".join(bad)}; round them to multiples of {stride}')


@HOOKS.register_module()
class InputSizeCheckHook(Hook):
    """Before any step: every ``input_size`` / ``img_scale`` of the train, val and test
    pipelines (and ``model.test_cfg``) is a multiple of the head's largest featmap stride,
    instead of a failure at the first validation, an epoch later."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner)

    def before_test(self, runner) -> None:
        self._check(runner, keys=('test_dataloader', 'model'))

    @staticmethod
    def _check(runner, **kwargs) -> None:
        model = unwrap(runner.model)
        strides = getattr(getattr(getattr(model, 'head', None), 'prior_generator', None),
                          'strides', None)
        if strides:  # bottom-up heads with a grid of priors
            check_input_sizes(runner.cfg, max(max(s) for s in strides), **kwargs)
