#!/usr/bin/env bash
# Builds the release `mnist` and checks its ONNX export against onnxruntime (scripts/check_onnx.py, which
# installs onnxruntime, onnx and numpy with pip when they are missing). Arguments go to check_onnx.py.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product mnist
exec python3 scripts/check_onnx.py --mnist "$(swift build -c release --show-bin-path)/mnist" "$@"
