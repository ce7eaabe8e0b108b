#!/usr/bin/env bash
# Proves that the release `mnist` runs on any x86_64 CPU with AVX2 and FMA, not only on the one that built it,
# and refuses older CPUs with a message instead of an illegal instruction. Under QEMU's user-mode emulator
# (qemu-x86_64, Debian's qemu-user: `scripts/setup --portability-tests`), which runs the binary as a given
# CPU model would:
#   1. one epoch of LeNet5 on a small MNIST subset natively, then as a Haswell (the AVX2+FMA baseline), with
#      the same code paths in both (OpenBLAS's Haswell kernels, OPENBLAS_CORETYPE=Haswell, and our AVX2 ones,
#      MNIST_CPU_LEVEL=avx2): the two accuracies must be identical (the weights are compared and reported);
#   2. the same natively with nothing pinned, reported only;
#   3. `mnist --version` and `mnist train` as a Nehalem (no AVX2, no FMA): each must exit non-zero with a
#      message naming AVX2 on standard error, not die by a signal.
# MNIST_BINARY=path skips the build and checks that binary; CHECK_PORTABILITY_KEEP=1 keeps the temporary folder.
# QEMU translates every instruction (TCG), tens of times slower than native: the run is kept small.
set -euo pipefail
repository=$(cd "$(dirname "$0")/.." && pwd)
cd "$repository"

if [ "$(uname -m)" != "x86_64" ]; then
    echo "check_portability: skipped: this checks x86_64 builds, and this machine is $(uname -m)"
    exit 0
fi
if ! command -v qemu-x86_64 >/dev/null; then
    echo "check_portability: FAILED: qemu-x86_64 not found (Debian's qemu-user: scripts/setup --portability-tests)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/check_portability.XXXXXX")
if [ "${CHECK_PORTABILITY_KEEP:-}" = "1" ]; then
    echo "check_portability: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
failures=()
summary=()

if [ -n "${MNIST_BINARY:-}" ]; then
    binary=$(cd "$(dirname "$MNIST_BINARY")" && pwd)/$(basename "$MNIST_BINARY")
    [ -x "$binary" ] || { echo "check_portability: FAILED: MNIST_BINARY=$MNIST_BINARY is not an executable" >&2; exit 1; }
else
    echo "check_portability: swift build -c release --product mnist"
    swift build -c release --product mnist
    binary="$(swift build -c release --show-bin-path)/mnist"
fi
echo "check_portability: checking $binary ($("$binary" --version 2>/dev/null || echo "no version"))"

# A small MNIST in its own folder: the first 2000 training and 500 test images and labels, as raw IDX files.
data="$work/data"
python3 "$repository/scripts/make_small_mnist.py" "$repository/data/mnist" "$data" 2000 500

# The same code paths natively and as a Haswell: OpenBLAS's Haswell kernels, and our AVX2 level if selectable.
pinned=(OPENBLAS_CORETYPE=Haswell MNIST_CPU_LEVEL=avx2)
# QEMU warns on stderr about CPU-model features TCG lacks (pcid, x2apic, …); they say nothing about the binary.
qemu_noise="^qemu-x86_64: warning: TCG doesn't support requested feature"

# run NAME [ENV=VALUE…] -- [qemu-x86_64 -cpu MODEL] — runs the binary in $work; stdout in NAME.out, stderr in
# NAME.err, exit status in $status, seconds in $seconds.
run() {
    local name=$1
    shift
    local environment=()
    while [ "$1" != "--" ]; do environment+=("$1"); shift; done
    shift
    local start=$SECONDS
    set +e
    (cd "$work" && env "${environment[@]}" timeout 1200 "$@") >"$work/$name.out" 2>"$work/$name.err"
    status=$?
    set -e
    seconds=$((SECONDS - start))
    grep -v "$qemu_noise" "$work/$name.err" >"$work/$name.stderr" || true
}
training=(train --data "$data" --epochs 1 --threads 1 --seed 0)
accuracy() { grep -o 'Epoch \[1/1\]: Accuracy: [0-9.]*%' "$work/$1.out" || true; }
loss() { grep -o 'training loss [0-9.]*' "$work/$1.out" || echo "no epoch line"; }
# OPENBLAS_VERBOSE=2 makes OpenBLAS name the core it loaded ("Core: Haswell") on stderr.
core() { sed -n 's/^Core: //p' "$work/$1.err" | head -n 1; }

# 1. Natively and as a Haswell, pinned to the same kernels.
for variant in native haswell; do
    prefix=()
    [ "$variant" = haswell ] && prefix=(qemu-x86_64 -cpu Haswell)
    echo "check_portability: training one epoch ($variant, ${pinned[*]})"
    run "$variant" "${pinned[@]}" OPENBLAS_VERBOSE=2 -- "${prefix[@]}" "$binary" "${training[@]}" --output "$work/$variant.safetensors"
    if [ "$status" -ne 0 ]; then
        cat "$work/$variant.out" "$work/$variant.stderr" >&2
        failures+=("$variant training exited with status $status")
    fi
    summary+=("$(printf '%-22s %s, %s (%d s, exit %d, OpenBLAS core %s)' "$variant, pinned:" "$(accuracy "$variant")" "$(loss "$variant")" "$seconds" "$status" "$(core "$variant")")")
done
native_accuracy=$(accuracy native)
haswell_accuracy=$(accuracy haswell)
if [ -z "$native_accuracy" ] || [ "$native_accuracy" != "$haswell_accuracy" ]; then
    failures+=("the accuracy as a Haswell ('$haswell_accuracy') is not the native one ('$native_accuracy')")
fi
if [ -f "$work/native.safetensors" ] && [ -f "$work/haswell.safetensors" ]; then
    if cmp -s "$work/native.safetensors" "$work/haswell.safetensors"; then
        summary+=("weights, native and Haswell: identical bytes")
    else
        summary+=("weights, native and Haswell: differ (the accuracies are what is compared)")
    fi
fi

# 2. Natively, as a user runs it: whatever this CPU selects. Reported, not compared.
echo "check_portability: training one epoch (native, nothing pinned)"
run free OPENBLAS_VERBOSE=2 -- "$binary" "${training[@]}" --output "$work/free.safetensors"
[ "$status" -eq 0 ] || failures+=("native training without pinned kernels exited with status $status")
summary+=("$(printf '%-22s %s, %s (%d s, exit %d, OpenBLAS core %s)' "native, this CPU's:" "$(accuracy free)" "$(loss free)" "$seconds" "$status" "$(core free)")")

# 3. Below the baseline: a clear refusal, not an illegal instruction.
refuses() {
    local name=$1
    shift
    local shown="mnist $1"
    echo "check_portability: $shown as a Nehalem"
    run "$name" -- qemu-x86_64 -cpu Nehalem "$binary" "$@"
    local message
    message=$(head -n 1 "$work/$name.stderr")
    summary+=("$(printf '%-22s exit %d (%d s): %s' "Nehalem, $shown:" "$status" "$seconds" "${message:-<nothing on stderr>}")")
    if [ "$status" -eq 0 ]; then
        failures+=("'$shown' as a Nehalem exited 0")
    elif [ "$status" -ge 124 ]; then
        failures+=("'$shown' as a Nehalem died with status $status (a signal or the timeout), not a clear refusal")
    elif ! grep -q AVX2 "$work/$name.stderr"; then
        failures+=("'$shown' as a Nehalem exited $status without naming AVX2 on stderr")
    fi
}
refuses nehalem-version --version
refuses nehalem-train "${training[@]}" --output "$work/nehalem.safetensors"

echo "check_portability: summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failures[@]} -gt 0 ]; then
    printf 'check_portability: FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "check_portability: OK: the same accuracy natively and as a Haswell; a Nehalem gets a message naming AVX2"
