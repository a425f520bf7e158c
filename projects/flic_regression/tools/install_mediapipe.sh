#!/usr/bin/env bash
# Creates the MediaPipe baseline's own environment (default: .venv-mediapipe at the repository
# root). mediapipe 0.10.14 needs protobuf<5 while the main environment's onnx needs
# protobuf>=6.31, so MediaPipe never goes into .venv: tools/mediapipe_baseline.py runs here,
# as a subprocess, and imports neither torch nor MMPose. 0.10.14 ships pose_detection.tflite
# and pose_landmark_full.tflite in its wheel, so it runs offline (0.10.3x no longer do).
#
#   bash projects/flic_regression/tools/install_mediapipe.sh [VENV_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
venv="${1:-$repo/.venv-mediapipe}"
python="${PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import mediapipe, scipy, cv2' 2>/dev/null; then
    echo "$venv: mediapipe is installed"
    exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q 'mediapipe==0.10.14' 'numpy<2' 'protobuf<5' scipy \
    'opencv-contrib-python<4.11'
"$venv/bin/python" - <<'PY'
import pathlib
import mediapipe as mp
models = pathlib.Path(mp.__file__).parent / 'modules' / 'pose_landmark'
names = sorted(p.name for p in models.glob('*.tflite'))
assert 'pose_landmark_full.tflite' in names, f'no bundled pose model in {models}: {names}'
print('mediapipe', mp.__version__, 'with', ', '.join(names))
PY
echo "$venv: ready"
