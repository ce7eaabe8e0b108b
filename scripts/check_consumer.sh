#!/usr/bin/env bash
# Proves that another package can depend on this one by version, as a user would:
#   .package(url: "…/swift-mnist", from: "<version>"), .product(name: "MNIST", package: "swift-mnist")
# It clones this repository's committed HEAD into a temporary folder named swift-mnist, tags that clone with
# the version in Sources/MNIST/Version.swift (PackageVersion.current), writes a consumer package whose
# main.swift is the first ```swift block under README.md's "## The library" heading, and a second target
# (product DeepLearning only) whose main.swift is every ```swift block of the DocC article
# Sources/DeepLearning/DeepLearning.docc/TrainingLeNet5.md in order, and builds both.
# SwiftPM refuses unsafe build flags in a package depended on by version, so this is also what catches them.
# Uncommitted changes are not seen: commit first. CHECK_CONSUMER_KEEP=1 keeps the temporary folder.
set -euo pipefail
repository=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/check_consumer.XXXXXX")
if [ "${CHECK_CONSUMER_KEEP:-}" = "1" ]; then
    echo "check_consumer: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
fail() {
    echo "check_consumer: FAILED: $*" >&2
    exit 1
}

# The package, as a user's SwiftPM sees it: a git repository whose last path component is its identity.
clone="$work/swift-mnist"
git -c advice.detachedHead=false clone --quiet --no-hardlinks "$repository" "$clone"
# Exactly the commit checked out here, even a detached one that no branch holds (as CI checks out).
git -C "$clone" fetch --quiet "$repository" HEAD
git -C "$clone" -c advice.detachedHead=false checkout --quiet --detach FETCH_HEAD
version=$(sed -n 's/^[[:space:]]*public static let current = "\([^"]*\)".*/\1/p' "$clone/Sources/MNIST/Version.swift")
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$ ]] ||
    fail "no semantic version found in Sources/MNIST/Version.swift (found '$version')"
head=$(git -C "$clone" rev-parse HEAD)
if ! git -C "$clone" rev-parse -q --verify "refs/tags/$version" >/dev/null; then
    git -C "$clone" tag "$version"
elif [ "$(git -C "$clone" rev-parse "$version^{commit}")" != "$head" ]; then
    # The release tag exists on an older commit; this check is about this tree, so move it in the clone only.
    echo "check_consumer: tag $version is on an older commit; testing HEAD under that version in the clone"
    git -C "$clone" tag -f "$version" >/dev/null
fi

# The consumer: README's library example, extracted rather than copied so the two cannot drift apart.
consumer="$work/Consumer"
mkdir -p "$consumer/Sources/Consumer"
awk '/^## The library/ { found = 1; next }
     found && !inside && /^```swift[[:space:]]*$/ { inside = 1; next }
     inside && /^```/ { exit }
     inside { print }' "$repository/README.md" >"$consumer/Sources/Consumer/main.swift"
[ -s "$consumer/Sources/Consumer/main.swift" ] || fail "no \`\`\`swift block under '## The library' in README.md"
article="$repository/Sources/DeepLearning/DeepLearning.docc/TrainingLeNet5.md"
mkdir -p "$consumer/Sources/Article"
awk '!inside && /^```swift[[:space:]]*$/ { inside = 1; next } inside && /^```/ { inside = 0; next } inside { print }' \
    "$article" >"$consumer/Sources/Article/main.swift"
[ -s "$consumer/Sources/Article/main.swift" ] || fail "no \`\`\`swift block in $article"
cat >"$consumer/Package.swift" <<EOF
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        .package(url: "file://$clone", from: "$version"),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "MNIST", package: "swift-mnist")]),
        .executableTarget(name: "Article", dependencies: [.product(name: "DeepLearning", package: "swift-mnist")]),
    ]
)
EOF

echo "check_consumer: building a package that depends on swift-mnist from: \"$version\" (commit ${head:0:12})"
log="$work/build.log"
start=$SECONDS
mkdir -p "$work/tmp"  # SwiftPM's lock files go to TMPDIR: keep them inside the folder that is removed
if ! (cd "$consumer" && TMPDIR="$work/tmp" swift build --scratch-path "$work/.build") >"$log" 2>&1; then
    grep -v -E "^(Fetching|Fetched|Computing|Computed|Creating working copy|Working copy of|Updating|Updated)" "$log" | tail -n 40 >&2
    fail "a package depending on swift-mnist $version (products MNIST and DeepLearning) does not build; log above"
fi
echo "check_consumer: OK: a package depending on swift-mnist from: \"$version\" builds README's library example and the DocC article's code ($((SECONDS - start)) s)"
