"""Test shorthands over :mod:`rtmo_plugin.builders` (models without downloads, real batches)."""
from pathlib import Path

from rtmo_plugin.builders import (  # noqa: F401  (re-exported for the tests)
    REPO,
    build_model,
    coco_batch,
    load_config,
    train_pipeline,
    val_pipeline,
)


def real_batch(coco_dir: Path, input_size=(320, 320), num_images=2, heatmap_mask=True):
    """Training batch of real COCO images through the deterministic stage-2 pipeline."""
    return coco_batch(coco_dir, train_pipeline(input_size, heatmap_mask), range(num_images))


def val_batch(coco_dir: Path, input_size=(320, 320), num_images=2):
    """Test batch of real COCO images through RTMO's val pipeline."""
    return coco_batch(coco_dir, val_pipeline(input_size), range(num_images), test_mode=True)
