#!/usr/bin/env bash
# Runs Apus's libFuzzer harnesses (Fuzz/<target>/) one after another.
#
#   scripts/fuzz.sh [--runs N] [--seconds S] [target...]
#
# Builds every harness once (APUS_FUZZ=1, release with asserts, -sanitize=fuzzer,address,
# into .build-fuzz), then runs each target, one process at a time, over a work corpus in
# .build-fuzz/corpus/<target> seeded from Fuzz/Corpus/<target> (what the fuzzer adds stays
# there, uncommitted). Each target stops after N executions or S seconds, whichever comes
# first; default --seconds 30, all targets. Stops at the first
# crash and prints its reproducer; exits 1 on a crash or a failed build, 77 when this
# toolchain has no libFuzzer runtime (nothing ran), 0 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

ALL_TARGETS=(FuzzThriftProtocols FuzzMessageFraming FuzzServerConnection FuzzWire FuzzNetStack)
budget=()
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) budget+=(-runs="$2"); shift 2 ;;
        --seconds) budget+=(-max_total_time="$2"); shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#budget[@]} -gt 0 ] || budget=(-max_total_time=30)
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
    [ -d "Fuzz/$target" ] || { echo "fuzz.sh: no target $target (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

scratch=.build-fuzz
mkdir -p "$scratch/probe"
# The runtime ships with the toolchain's clang; some toolchains (and macOS's Xcode) lack it.
echo '@_cdecl("LLVMFuzzerTestOneInput") public func f(_ d: UnsafePointer<UInt8>, _ n: Int) -> CInt { 0 }' > "$scratch/probe/probe.swift"
if ! swiftc -sanitize=fuzzer,address -parse-as-library "$scratch/probe/probe.swift" -o "$scratch/probe/probe" >/dev/null 2>&1; then
    echo "fuzz.sh: skipped: swiftc cannot link -sanitize=fuzzer,address here (no libFuzzer/ASan runtime in this toolchain)"
    exit 77
fi

echo "== fuzz: build (${targets[*]})"
for target in "${targets[@]}"; do
    if ! APUS_FUZZ=1 swift build -c release --scratch-path "$scratch" --product "$target" > "$scratch/build-$target.log" 2>&1; then
        grep -E "error:" "$scratch/build-$target.log" | head -20 >&2
        echo "fuzz.sh: building $target failed (log: $scratch/build-$target.log)" >&2
        exit 1
    fi
done
bin="$(APUS_FUZZ=1 swift build -c release --scratch-path "$scratch" --show-bin-path)"

# The Swift runtime's backtracer would hold the crashing process (and this script) for a
# long time; libFuzzer and ASan print the stack themselves.
export SWIFT_BACKTRACE=enable=no
summary=()
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    crashes="$scratch/crashes"
    mkdir -p "$corpus" "$crashes"
    cp -n Fuzz/Corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    dictionary=()
    [ -f "Fuzz/Corpus/$target.dict" ] && dictionary=(-dict="Fuzz/Corpus/$target.dict")
    log="$scratch/$target.log"
    echo "== fuzz: $target (${budget[*]}; log $log)"
    set +e
    "$bin/$target" "${budget[@]}" "${dictionary[@]}" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$crashes/$target-" "$corpus" > "$log" 2>&1
    status=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -1)
    if [ $status -ne 0 ] || [ -n "$artifact" ]; then
        echo "fuzz.sh: $target FAILED (exit $status) after ${runs:-?} executions" >&2
        grep -E "Precondition failed|Fatal error|Assertion failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY" "$log" | head -5 >&2 || true
        if [ -n "$artifact" ]; then
            echo "reproducer: $artifact" >&2
            echo "replay:     SWIFT_BACKTRACE=enable=no $bin/$target $artifact" >&2
            echo "minimize:   SWIFT_BACKTRACE=enable=no $bin/$target -minimize_crash=1 -runs=100000 $artifact" >&2
        else
            tail -20 "$log" >&2
        fi
        exit 1
    fi
    line=$(printf "%-22s %12s executions %9s exec/s   0 crashes   corpus %s files" "$target" "${runs:-?}" "${rate:-?}" "$(ls "$corpus" | wc -l)")
    echo "$line"
    summary+=("$line")
done
if [ ${#summary[@]} -gt 1 ]; then
    echo "== fuzz: summary"
    printf '%s\n' "${summary[@]}"
fi
