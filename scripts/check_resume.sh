#!/usr/bin/env bash
# Kills a training run (SIGKILL) at random moments, resumes it from its checkpoint each time, and checks that
# the weights it finally writes are byte for byte those of the same run left alone; the checkpoints too.
# LeNet5, 6 epochs on a small MNIST (6000 training images), 2 threads. Each kill comes at a random moment in
# the first 5–55% of what the run has left to do (timed from the uninterrupted run); at most 8 kills, and at
# least 3 must land (else the check proves little and fails).
# MNIST_BINARY=path skips the build; CHECK_RESUME_SEED fixes the kill times (default: random, printed).
set -euo pipefail
repository=$(cd "$(dirname "$0")/.." && pwd)
cd "$repository"
fail() {
    echo "check_resume: FAILED: $*" >&2
    exit 1
}
if [ -n "${MNIST_BINARY:-}" ]; then
    binary=$MNIST_BINARY
else
    echo "check_resume: swift build -c release --product mnist"
    swift build -c release --product mnist
    binary="$(swift build -c release --show-bin-path)/mnist"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/check_resume.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 scripts/make_small_mnist.py data/mnist "$work/data" 6000 500

seed=${CHECK_RESUME_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
echo "check_resume: kill times from seed $seed (CHECK_RESUME_SEED=$seed repeats them)"
epochs=6
recipe=(--model lenet5 --epochs "$epochs" --seed 7 --data "$work/data" --threads 2)

start=$(date +%s%N)
"$binary" train "${recipe[@]}" --output "$work/whole.safetensors" --checkpoint "$work/whole.checkpoint.safetensors" \
    --metrics "$work/whole.metrics.jsonl" >"$work/whole.out" 2>&1 || fail "the uninterrupted run failed: $(tail -n 3 "$work/whole.out")"
whole_milliseconds=$((($(date +%s%N) - start) / 1000000))

killed=0
attempts=0
done_epochs=0
cut=(--output "$work/cut.safetensors" --checkpoint "$work/cut.checkpoint.safetensors" --metrics "$work/cut.metrics.jsonl")
while :; do
    attempts=$((attempts + 1))
    [ "$attempts" -le 60 ] || fail "no run finished in 60 attempts"
    if [ -f "$work/cut.checkpoint.safetensors" ]; then
        arguments=(train --resume "$work/cut.checkpoint.safetensors" --epochs "$epochs" --data "$work/data" --threads 2)
    else
        arguments=(train "${recipe[@]}")
    fi
    "$binary" "${arguments[@]}" "${cut[@]}" >"$work/cut.out" 2>&1 &
    pid=$!
    if [ "$killed" -lt 8 ]; then
        delay=$((whole_milliseconds * (epochs - done_epochs) / epochs * (5 + RANDOM % 51) / 100))
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        if kill -KILL "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            killed=$((killed + 1))
            # A resumed run prints the epochs done before it too: this counts every epoch done so far.
            printed=$(grep -c "^Epoch \\[" "$work/cut.out" || true)
            done_epochs=$((printed > done_epochs ? printed : done_epochs))
            echo "check_resume: killed run $attempts after ${delay} ms, $done_epochs of $epochs epochs done"
            continue
        fi
    fi
    wait "$pid" || fail "run $attempts failed: $(tail -n 3 "$work/cut.out")"
    break
done
[ "$killed" -ge 3 ] || fail "only $killed kills landed"
cmp "$work/whole.safetensors" "$work/cut.safetensors" ||
    fail "the weights after $killed kills and resumes differ from the uninterrupted run's"
# The checkpoints: every tensor (weights, Adam's moments, step counts) byte for byte, and the metadata
# (recipe, random generator state, history) equal but for each epoch's wall-clock seconds (`seconds`,
# `testSeconds`).
python3 - "$work/whole.checkpoint.safetensors" "$work/cut.checkpoint.safetensors" <<'PYTHON' ||
import json, struct, sys
def load(path):
    data = open(path, "rb").read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    history = json.loads(metadata.get("history", "[]"))
    for epoch in history:
        epoch.pop("seconds", None)
        epoch.pop("testSeconds", None)
    metadata["history"] = history
    tensors = {name: (entry["dtype"], entry["shape"], data[8 + length + entry["data_offsets"][0]:8 + length + entry["data_offsets"][1]])
               for name, entry in header.items()}
    return metadata, tensors
whole, cut = load(sys.argv[1]), load(sys.argv[2])
if whole[0] != cut[0]:
    sys.exit(f"metadata differs: {whole[0]} against {cut[0]}")
if whole[1].keys() != cut[1].keys():
    sys.exit(f"tensor names differ: {sorted(whole[1])} against {sorted(cut[1])}")
different = [name for name in whole[1] if whole[1][name] != cut[1][name]]
if different:
    sys.exit(f"tensors differ: {different}")
print(f"check_resume: checkpoints agree: {len(whole[1])} tensors byte for byte, metadata but for seconds")
PYTHON
    fail "the final checkpoint after $killed kills and resumes differs from the uninterrupted run's"
leftovers=$(find "$work" -name '.*.tmp' | wc -l)
echo "check_resume: OK: $killed runs killed with SIGKILL and resumed; the weights and checkpoint are byte for byte" \
    "the uninterrupted run's (which took ${whole_milliseconds} ms); $leftovers temporary file(s) left behind"
