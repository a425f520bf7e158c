#!/usr/bin/env bash
# Create (or reuse) a virtual environment with the OpenMMLab 1.x stack that rtmo_plugin runs on.
#
#   bash tools/install.sh [VENV_DIR]        # default: .venv
#
# Idempotent: every step checks what is already there. The slow step, building mmcv 2.1.0 with its
# C++ ops (~15 min on 2 cores; PyPI has no wheel for torch 2.14), runs once per machine: the wheel
# is kept in ${RTMO_WHEEL_CACHE:-~/.cache/rtmo_plugin/wheels} and reused by later installs.
#
# To install into an existing environment that already has a (CUDA) torch, point VENV_DIR at it:
# torch is only installed when `import torch` fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv}
constraints=$root/requirements/constraints.txt
wheel_cache=${RTMO_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rtmo_plugin/wheels}
python_bin=${PYTHON:-python3.11}

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$venv/bin/python" ]; then
  step "creating virtual environment $venv"
  "$python_bin" -m venv "$venv"
fi
py=$venv/bin/python
pip=("$py" -m pip install --disable-pip-version-check -q -c "$constraints")

have() { "$py" -c "import $1" >/dev/null 2>&1; }

step "build tools"
"${pip[@]}" -U pip wheel 'setuptools<81' ninja

if ! have torch; then
  step "torch 2.14.1 + torchvision 0.29.1"
  "${pip[@]}" torch==2.14.1 torchvision==0.29.1 'numpy<2'
fi

if ! have mmcv.ops; then
  torch_version=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
  cache=$wheel_cache/torch-$torch_version
  if ! ls "$cache"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    step "building mmcv 2.1.0 with ops for torch $torch_version (once per machine, ~15 min)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$py" -m pip download -q --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$work"
    tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks the compiler for C++17.
    sed -i "s/-std=c++17/-std=c++20/g" "$work"/mmcv-2.1.0/setup.py
    MAX_JOBS=${MAX_JOBS:-$(nproc)} "$py" -m pip wheel -q --no-deps --no-build-isolation \
      -w "$work/dist" "$work/mmcv-2.1.0"
    mkdir -p "$cache"
    mv "$work"/dist/mmcv-2.1.0-*.whl "$cache"/
  fi
  step "mmcv 2.1.0 from $cache"
  "${pip[@]}" "$cache"/mmcv-2.1.0-*.whl
fi

step "OpenMMLab runtime (mmengine, mmdet, mmpose without chumpy, mim without openxlab)"
"${pip[@]}" -r "$root/requirements/runtime.txt"
"${pip[@]}" --no-deps mmpose==1.3.2 openmim==0.3.9
# RTMPose/RTMW recipes blur and cut out with albumentations (1.x: MMPose passes CoarseDropout
# arguments that 2.0 removed); without their opencv-python-headless (see runtime.txt)
"${pip[@]}" --no-deps albumentations==1.4.24 albucore==0.0.23

step "rtmo_plugin (editable) and dev tools"
"${pip[@]}" -r "$root/requirements/dev.txt"
"${pip[@]}" --no-deps -e "$root"
# mim 0.3.9 looks for a package's tools and configs under pkg_resources' location of it,
# which for an editable (PEP 660) install is site-packages, where the code is not. Putting
# the clone on sys.path just before site-packages (after PYTHONPATH) makes that location the
# clone (pip wrote rtmo_plugin.egg-info there), so `mim train/test rtmo_plugin` work from
# any directory, as after `pip install .`.
"$py" - "$root" <<'PY'
import pathlib, sys, sysconfig
site = sysconfig.get_paths()['purelib']
line = (f'import sys; s, r = {site!r}, {sys.argv[1]!r}; r in sys.path or '
        'sys.path.insert(sys.path.index(s) if s in sys.path else len(sys.path), r)')
pathlib.Path(site, 'rtmo_plugin_mim.pth').write_text(line + '\n')
PY

"$py" -c "import rtmo_plugin, mmpose, mmcv.ops; print('rtmo_plugin', rtmo_plugin.__version__, 'on mmpose', mmpose.__version__)"
