#!/usr/bin/env bash
# The engine's documentation (DocC): one archive for the library's modules, the DeepLearning catalog's
# landing page and its article "Training LeNet5 on MNIST" linking into Autograd, NN, Optimizers, Datasets
# and Training. Fails on any warning (an unresolved link, an undocumented parameter). The archive lands in
# .build/plugins/Swift-DocC/outputs/swift-mnist.doccarchive; arguments are passed on to the plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift package generate-documentation --enable-experimental-combined-documentation \
    --target Autograd --target NN --target Optimizers --target Datasets --target Training \
    --target DeepLearning "$@" 2>&1 | tee "$log"
if grep -q "warning:" "$log"; then
    echo "build_documentation: DocC warnings above" >&2
    exit 1
fi
echo "build_documentation: OK"
