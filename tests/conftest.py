"""Fixtures for the real mini datasets of ``../shared/data``, or look-alikes the tests make.

A clone with ``../shared/data`` beside it (or ``RTMO_SHARED_DATA`` pointing at such a folder)
runs the data tests on the four real COCO photographs; a plain clone runs the same tests on
a generated stand-in with the same layout (:mod:`shared_standin`).
"""
import os
from pathlib import Path

import pytest

from shared_standin import write_standin

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))


@pytest.fixture(scope='session')
def shared_data(tmp_path_factory) -> Path:
    """A folder with ``coco-mini/`` and ``coco-wholebody-mini/`` as ``../shared/data`` has."""
    if (SHARED_DATA / 'coco-mini' / 'person_keypoints.json').is_file():
        return SHARED_DATA
    return write_standin(tmp_path_factory.mktemp('shared_standin'))


@pytest.fixture(scope='session')
def coco_mini(shared_data) -> Path:
    """The real 4-image COCO keypoint set of ../shared/data (see its README), or its stand-in."""
    return shared_data / 'coco-mini'
