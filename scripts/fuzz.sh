#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzzing/ (-sanitize=fuzzer,address) and runs each on a copy of its seed
# corpus (Fuzzing/Corpus/NAME) in a temporary folder, so that the committed corpus does not change; then prints
# a table: harness, inputs run, crashes, seconds, peak resident megabytes.
#
#   scripts/fuzz.sh                          # every harness, 1,000,000 inputs each
#   scripts/fuzz.sh --runs 100000 IDX Gzip   # some harnesses, fewer inputs
#   scripts/fuzz.sh --time 10                # every harness for 10 seconds (a smoke run)
#   scripts/fuzz.sh --merge                  # also add inputs with new coverage to Fuzzing/Corpus
#
# A harness stops at its first crash, hang (-timeout, seconds per input) or memory overrun (-rss_limit_mb);
# the input is kept in Fuzzing/Findings/NAME (not committed, with libFuzzer's log in Fuzzing/Findings/NAME.log)
# and the table counts it. Replay one with
# `.build-fuzz/release/FuzzNAME FILE`. CI runs `--time 10`; see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=0 # 0: no time limit
merge=false
harnesses=()
while (($#)); do
    case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --time) seconds="$2"; runs=-1; shift 2 ;;
    --merge) merge=true; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 64 ;;
    *) harnesses+=("$1"); shift ;;
    esac
done
((${#harnesses[@]})) || harnesses=(IDX Gzip SafeTensors PNG PredictionRequest)

(cd Fuzzing && swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address 2>&1 |
    grep -v "Cannot export local symbol '__asan_extra_spill_area'")
binaries=.build-fuzz/release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table=()
failed=false
for name in "${harnesses[@]}"; do
    [[ -d Fuzzing/Corpus/$name ]] || { echo "fuzz.sh: no harness $name (Fuzzing/Corpus/$name)" >&2; exit 64; }
    cp -R "Fuzzing/Corpus/$name" "$work/$name"
    findings="Fuzzing/Findings/$name"
    mkdir -p "$findings"
    options=(-runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$findings/")
    [[ -f Fuzzing/Dictionaries/$name.dict ]] && options+=(-dict="Fuzzing/Dictionaries/$name.dict")
    before=$(find "$findings" -type f | wc -l)
    start=$(date +%s)
    log="Fuzzing/Findings/$name.log"
    echo "== $name: $binaries/Fuzz$name ${options[*]} (log: $log)"
    "$binaries/Fuzz$name" "${options[@]}" "$work/$name" >"$log" 2>&1 || failed=true
    elapsed=$(($(date +%s) - start))
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    resident=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    crashes=$(($(find "$findings" -type f | wc -l) - before))
    if ((crashes)); then
        grep -E "ERROR|Fatal error|runtime failure|SUMMARY|Test unit written" "$log" | head -20 || true
    fi
    table+=("$(printf '%-18s %12s %8s %8s %8s' "$name" "${executed:-?}" "$crashes" "$elapsed" "${resident:-?}")")
    if $merge; then
        "$binaries/Fuzz$name" -merge=1 "Fuzzing/Corpus/$name" "$work/$name" >"$work/$name.merge.log" 2>&1
    fi
done

printf '%-18s %12s %8s %8s %8s\n' harness inputs crashes seconds 'peak MB'
printf '%s\n' "${table[@]}"
! $failed
