"""Image files checked without decoding them: exists, is a file, not empty, not truncated
(:func:`rtmo_ort.is_truncated` on the file's first and last bytes), and its size from the
header (JPEG frame, PNG IHDR). Fast enough to scan a whole dataset before training."""
from __future__ import annotations

import os
import struct
from typing import Dict, List, Optional, Tuple

from rtmo_ort import JPEG_START, PNG_START, TAIL_BYTES, is_truncated

HEAD_BYTES = 65536  # a JPEG's frame header follows its EXIF/ICC segments, within this


def jpeg_size(head: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from the first SOF segment of a JPEG's leading bytes."""
    pos = 2
    while pos + 9 < len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        length = struct.unpack('>H', head[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack('>HH', head[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def image_problem(path: str) -> Tuple[Optional[str], Optional[Tuple[int, int]]]:
    """``(problem or None, (width, height) or None)`` of an image file, from its header.

    JPEG and PNG are checked for their start and end markers; other formats are decoded
    with OpenCV (rare in pose datasets).
    """
    if not os.path.exists(path):
        return 'missing (no such file)', None
    if not os.path.isfile(path):
        return 'not a file', None
    size = os.path.getsize(path)
    if size == 0:
        return 'empty file (0 bytes)', None
    with open(path, 'rb') as f:
        head = f.read(HEAD_BYTES)
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    truncated = is_truncated(head, tail)
    if truncated:
        return truncated, None
    if head[:2] == JPEG_START:
        dims = jpeg_size(head)
        return (None, dims) if dims else ('corrupt JPEG header (no frame size)', None)
    if head[:8] == PNG_START:
        return None, struct.unpack('>II', head[16:24])
    import cv2
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        return f'not an image OpenCV can decode (starts with {head[:8]!r})', None
    return None, (image.shape[1], image.shape[0])


def scan_images(infos: List[dict]) -> Tuple[Dict[str, str], Dict[str, Tuple[int, int]]]:
    """``({path: problem}, {path: (width, height)})`` over the unique local files of the
    data infos' ``img_path`` s (remote paths are not scanned)."""
    problems, dims = {}, {}
    for path in dict.fromkeys(info['img_path'] for info in infos if 'img_path' in info):
        if '://' in str(path):  # remote storage (backend_args): not scanned
            continue
        problem, size = image_problem(str(path))
        if problem:
            problems[path] = problem
        elif size:
            dims[path] = size
    return problems, dims
