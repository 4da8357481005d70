# Shared by scripts/demo.sh (sourced, not run; scripts/bench/runner.py does the same for the benchmarks). Callers define die() and note().

# build_release_apus BIN VAR: when the environment variable VAR names a binary, checks BIN (its
# value) is executable and uses it as it is; otherwise builds BIN with `swift build -c release`.
build_release_apus() {
  local bin="$1" override="$2"
  if [ -n "${!override:-}" ]; then
    [ -x "$bin" ] || die "$override=$bin is not an executable"
    note "apus: $bin ($override, not rebuilt)"
    return
  fi
  command -v swift >/dev/null || die "no swift on PATH (nor /opt/swift/usr/bin)"
  note "building: swift build -c release --product apus (minutes the first time)"
  # Progress lines dropped; pipefail keeps swift's exit status (grep's `|| true`).
  timeout 3600 swift build -c release --product apus 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; } >&2 \
    || die "swift build -c release --product apus failed"
  [ -x "$bin" ] || die "swift build succeeded but $bin does not exist"
}
