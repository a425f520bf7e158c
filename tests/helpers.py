"""Test shorthands over :mod:`rtmo_plugin.build` and :mod:`rtmo_plugin.lab.builders` (models
without downloads, real batches) and the scripts under tools/."""
import importlib.util
from pathlib import Path

from rtmo_plugin.build import REPO, build_model, load_config  # noqa: F401  (re-exported)
from rtmo_plugin.lab.builders import coco_batch, train_pipeline, val_pipeline  # noqa: F401


def real_batch(coco_dir: Path, input_size=(320, 320), num_images=2, heatmap_mask=True):
    """Training batch of real COCO images through the deterministic stage-2 pipeline."""
    return coco_batch(coco_dir, train_pipeline(input_size, heatmap_mask), range(num_images))


def val_batch(coco_dir: Path, input_size=(320, 320), num_images=2):
    """Test batch of real COCO images through RTMO's val pipeline."""
    return coco_batch(coco_dir, val_pipeline(input_size), range(num_images), test_mode=True)


def pipelines_config(input_size) -> str:
    """Config text (for the configs tests write as a user would) setting ``train_pipeline``
    (RTMO's stage 2 without its random parts) and ``val_pipeline`` at ``input_size``: the
    base config's pipelines, written out."""
    return (f'train_pipeline = {train_pipeline(tuple(input_size), heatmap_mask=False)!r}\n'
            f'val_pipeline = {val_pipeline(tuple(input_size))!r}\n')


def load_tool(name: str):
    """The script ``tools/<name>.py`` as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
