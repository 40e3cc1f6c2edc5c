#!/bin/bash
# Fill the git-ignored folder .gpu/ with what a bare GPU machine needs for tools/gpu_job.sh:
# wheels the machine lacks (Python 3.12, manylinux) and the training / test data copied from
# ../shared/data (train400, Set12, the Levin kernels). Run here, then carry .gpu to the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
mkdir -p .gpu/wheels .gpu/data/kernels
pip=${PIP:-.venv/bin/pip}
$pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 -d .gpu/wheels ptwt PyWavelets tomli-w imagecodecs
cp -r "$SHARED/train400" "$SHARED/set12" .gpu/data/
cp -r "$SHARED/kernels/levin09" .gpu/data/kernels/
du -sh .gpu
