"""The ``rtmo_plugin`` registry scope: children of MMPose's registries.

The plugin registers its modules in MMPose's registries. This module only exists for
configs inheriting ours as ``rtmo_plugin::...``: mmengine then tags every built dict of
those bases with ``_scope_='rtmo_plugin'`` and looks for registries of that scope. Each
child here finds nothing of its own and falls back to its MMPose (then mmengine) parent.
"""
from mmengine.registry import Registry
from mmpose import registry as mmpose_registry


def _children() -> dict:
    # a child imports its parent's lazy locations too: a parent's `get` would import them,
    # but a child reads its parents' tables directly
    return {name: Registry(parent.name, parent=parent, scope='rtmo_plugin',
                           locations=[*parent._locations, 'rtmo_plugin'])
            for name, parent in vars(mmpose_registry).items() if isinstance(parent, Registry)}


globals().update(_children())
