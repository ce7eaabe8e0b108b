#!/usr/bin/env bash
# The sources follow .swift-format (the toolchain's `swift format`): fails listing every line that does not.
# Fix with: swift format format -i --configuration .swift-format $(git ls-files '*.swift')
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.swift' | xargs -0 swift format lint --strict --configuration .swift-format
echo "check_format: OK ($(git ls-files '*.swift' | wc -l) files)"
