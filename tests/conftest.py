import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))


@pytest.fixture(scope='session')
def coco_mini() -> Path:
    """The real 4-image COCO keypoint set of ../shared/data (see its README)."""
    path = SHARED_DATA / 'coco-mini'
    if not (path / 'person_keypoints.json').is_file():
        pytest.skip(f'{path} not found: set RTMO_SHARED_DATA to the shared data folder')
    return path
