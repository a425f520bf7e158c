from .guards import CheckedLoadFromHook, DetKeypointDataCheckHook

__all__ = ['CheckedLoadFromHook', 'DetKeypointDataCheckHook']
