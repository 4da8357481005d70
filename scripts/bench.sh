#!/usr/bin/env bash
# RPC benchmarks: Apus against Apache Thrift C++ on the same IDL (Examples/echo.thrift).
#
#   bash scripts/bench.sh kernel [--duration S] [--connections "1 4 16"] [--depth N]
#                                [--payload BYTES] [--protocol binary|compact] [--quick]
#
# kernel: both servers on kernel sockets over loopback (127.0.0.1), one CPU each side:
#   apus  `.build/release/apus serve --host 127.0.0.1 --port 0 ...` (Apus kernel-socket server)
#   cpp   Apache Thrift C++ TNonblockingServer, one IO thread, handlers inline
#         (Benchmarks/cpp/echo_server.cpp, built in build/bench-kernel/ when its inputs change)
# Every server (pinned to CPU 0) is driven by the same client, `apus bench` (pinned to
# CPU 1): C connections, K = C * depth echo calls of a BYTES-long string outstanding
# (pipelined), framed transport, for S seconds. Per run it reports QPS, latency
# percentiles and the server's CPU time per call (from /proc/PID/stat).
# Defaults: --duration 5 --connections "1 4 16" --depth 4 --payload 64 --protocol binary;
# --quick: --duration 2 --connections "1 4" (explicit flags still win).
# Raw results: .build/bench/kernel-<UTC timestamp>.jsonl (+ a directory of logs).
#
# Environment:
#   APUS_BENCH_CLIENT=/path   client binary instead of .build/release/apus; it is run as
#                             `/path bench --host ... --json` (self-tests, other clients)
#   APUS_BENCH_SKIP_APUS=1    benchmark the C++ server only
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

mode="${1:-}"
(($#)) && shift
case "$mode" in
  kernel) ;;
  -h|--help|help) usage 0 ;;
  "") echo "bench: which benchmark? modes: kernel" >&2; usage 2 >&2 ;;
  *) echo "bench: unknown mode '$mode' (modes: kernel)" >&2; usage 2 >&2 ;;
esac

# ---- options -------------------------------------------------------------------
duration="" connections="-" depth=4 payload=64 protocol=binary quick=0
need() { (($# >= 2)) || die "$1 needs a value"; }
while (($#)); do
  case "$1" in
    --duration) need "$@"; duration="$2"; shift 2 ;;
    --connections) need "$@"; connections="$2"; shift 2
      [[ "$connections" =~ [0-9] ]] || die "--connections needs at least one count, got '$connections'" ;;
    --depth) need "$@"; depth="$2"; shift 2 ;;
    --payload) need "$@"; payload="$2"; shift 2 ;;
    --protocol) need "$@"; protocol="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument '$1' (see: bash scripts/bench.sh --help)" ;;
  esac
done
# "-": not given on the command line.
if ((quick)); then
  duration="${duration:-2}"; [ "$connections" != - ] || connections="1 4"
fi
duration="${duration:-5}"; [ "$connections" != - ] || connections="1 4 16"
# Whole seconds: the client's --duration and `timeout` both take them as-is.
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive whole number of seconds, got '$duration'"
[[ "$depth" =~ ^[1-9][0-9]*$ ]] || die "--depth must be a positive integer, got '$depth'"
[[ "$payload" =~ ^[0-9]+$ ]] || die "--payload must be a byte count, got '$payload'"
[[ "$protocol" =~ ^(binary|compact)$ ]] || die "--protocol must be binary or compact, got '$protocol'"
read -r -a conn_list <<<"$connections"
((${#conn_list[@]})) || die "--connections is empty"
for c in "${conn_list[@]}"; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "--connections takes positive integers, got '$c'"
done

# ---- prerequisites -------------------------------------------------------------
export PATH="/opt/swift/usr/bin:$PATH"
missing=()
command -v thrift >/dev/null || missing+=("thrift (thrift-compiler)")
command -v g++ >/dev/null || missing+=("g++")
command -v taskset >/dev/null || missing+=("taskset (util-linux)")
command -v python3 >/dev/null || missing+=("python3")
pkg-config --exists thrift-nb 2>/dev/null || missing+=("pkg-config thrift-nb (libthrift-dev)")
pkg-config --exists libevent 2>/dev/null || missing+=("pkg-config libevent (libevent-dev)")
echo '#include <boost/numeric/conversion/cast.hpp>' | g++ -x c++ -E - -o /dev/null 2>/dev/null \
  || missing+=("Boost headers (libboost-dev)")
((${#missing[@]} == 0)) || die "missing: ${missing[*]}
  run (as root): bash scripts/setup.sh"

# Server on CPU 0, client on CPU 1: neither steals the other's cycles, and the
# server's CPU time is its own work.
if taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
  server_pin=(taskset -c 0); client_pin=(taskset -c 1); bench_cpus='^cpu[01] '
else
  note "warning: cannot pin to CPUs 0 and 1 (fewer than 2 CPUs?); running unpinned, numbers are not comparable"
  server_pin=(); client_pin=(); bench_cpus='^cpu '
fi
clk_tck="$(getconf CLK_TCK)"

skip_apus="${APUS_BENCH_SKIP_APUS:-0}"
apus_bin=".build/release/apus"
if [ -n "${APUS_BENCH_CLIENT:-}" ]; then
  [ -x "$APUS_BENCH_CLIENT" ] || die "APUS_BENCH_CLIENT=$APUS_BENCH_CLIENT is not an executable"
  client_bin="$APUS_BENCH_CLIENT"
else
  client_bin="$apus_bin"
fi

# ---- builds --------------------------------------------------------------------
build_cpp_server() {
  local idl="Examples/echo.thrift" src="Benchmarks/cpp/echo_server.cpp" out="build/bench-kernel"
  local cxx_flags=(-O2 -std=c++17 -Wall -Wextra)
  [ -f "$idl" ] || die "$idl not found"
  [ -f "$src" ] || die "$src not found"
  local build_id
  build_id="$(
    {
      sha256sum "$idl" "$src"
      echo "${cxx_flags[*]} $(pkg-config --cflags --libs thrift-nb libevent)"
      thrift --version
      g++ --version | head -1
    } | sha256sum | cut -d' ' -f1
  )"
  cpp_server="$out/echo_server"
  if [ -x "$cpp_server" ] && [ "$(cat "$out/build-id" 2>/dev/null)" = "$build_id" ]; then
    note "C++: $cpp_server is up to date"
    return
  fi
  note "C++: generating code and building $cpp_server"
  rm -rf "$out/gen-cpp" "$out/build-id"
  mkdir -p "$out/gen-cpp"
  thrift --gen cpp:no_skeleton -out "$out/gen-cpp" "$idl" || die "thrift --gen cpp failed"
  # libthriftnb.so is not linked against libevent itself: name it explicitly.
  # shellcheck disable=SC2046  # pkg-config output must word-split
  timeout 600 g++ "${cxx_flags[@]}" -I "$out/gen-cpp" "$src" "$out/gen-cpp/Echo.cpp" \
    "$out/gen-cpp/echo_types.cpp" -o "$out/echo_server.tmp" \
    $(pkg-config --cflags --libs thrift-nb libevent) -lpthread \
    || die "building $cpp_server failed"
  mv -f "$out/echo_server.tmp" "$cpp_server"
  echo "$build_id" >"$out/build-id"
}
build_cpp_server

# apus is needed as the server unless skipped, and as the client unless overridden.
if [ "$skip_apus" != 1 ] || [ "$client_bin" = "$apus_bin" ]; then
  command -v swift >/dev/null || die "no swift on PATH (nor /opt/swift/usr/bin)"
  note "Apus: swift build -c release --product apus"
  # Progress lines dropped; pipefail keeps swift's exit status (grep's `|| true`).
  timeout 3600 swift build -c release --product apus 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; } >&2 \
    || die "swift build -c release --product apus failed"
  [ -x "$apus_bin" ] || die "swift build succeeded but $apus_bin does not exist"
  # Subcommands are checked up front so a missing one fails at once, not per run.
  # (`apus nosuch --help` exits 0 with the top-level help: read the list instead.)
  subcommands="$("$apus_bin" --help 2>&1 || true)"
  has_subcommand() { grep -qE "^ +$1( |\$)" <<<"$subcommands"; }
  if [ "$skip_apus" != 1 ] && ! has_subcommand serve; then
    die "$apus_bin has no 'serve' subcommand yet (APUS_BENCH_SKIP_APUS=1 runs the C++ server only)"
  fi
  if [ "$client_bin" = "$apus_bin" ] && ! has_subcommand bench; then
    die "$apus_bin has no 'bench' subcommand yet (APUS_BENCH_CLIENT=/path uses another client)"
  fi
fi

servers=()
[ "$skip_apus" = 1 ] || servers+=(apus)
servers+=(cpp)

# ---- runs ----------------------------------------------------------------------
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir=".build/bench"
results="$results_dir/kernel-$stamp.jsonl"
logs="$results_dir/kernel-$stamp"
mkdir -p "$logs"
: >"$results"

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq 20); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
client_pid=""
cleanup() {
  # A client cut short by Ctrl-C/SIGTERM: TERM reaches `timeout`, which passes it on
  # to the client (SIGKILL would orphan the client).
  if [ -n "$client_pid" ]; then
    kill -TERM "$client_pid" 2>/dev/null || true
    local i
    for i in $(seq 30); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$client_pid" 2>/dev/null || true
  fi
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# utime + stime of the whole process (all threads), in clock ticks. The comm field
# can hold spaces, so count fields after its closing parenthesis (14, 15 -> 12, 13).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# Busy ticks (user nice system irq softirq steal) of the benchmark's CPUs: what the
# server and client did not use of it is other load disturbing the run.
busy_ticks() { grep -E "$bench_cpus" /proc/stat | awk '{ t += $2 + $3 + $4 + $7 + $8 + $9 } END { print t }'; }

# Starts server $1 on CPU 0 and sets server_pid and port. stdbuf: the readiness line
# must reach the log file at once even if the server block-buffers a redirected stdout.
start_server() {
  local name="$1" log="$2" pattern cmd
  case "$name" in
    apus)
      cmd=("$apus_bin" serve --host 127.0.0.1 --port 0 --protocol "$protocol" --framing framed)
      pattern='listening on 127\.0\.0\.1:[0-9]+' ;;
    cpp)
      cmd=("$cpp_server" --port 0 --protocol "$protocol")
      pattern='^READY [0-9]+' ;;
  esac
  "${server_pin[@]}" stdbuf -oL "${cmd[@]}" >"$log.out" 2>"$log.err" &
  server_pid=$!
  port=""
  local i line
  for i in $(seq 150); do
    line="$(grep -m1 -oE "$pattern" "$log.out" 2>/dev/null || true)"
    if [ -n "$line" ]; then port="${line##*[: ]}"; return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { server_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}

# user+sys seconds of this shell's reaped children, from a file `times` wrote (run
# in this shell itself: in a pipe or $(...) it would be a fork, with no children).
children_cpu() {
  sed -n 2p "$1" | awk '{
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.3f", t
  }'
}

failed=0
# Connection count outer, server inner: each apus/cpp pair runs back to back, so
# drift on a shared machine hits both sides of a ratio alike.
for conns in "${conn_list[@]}"; do
  concurrency=$((conns * depth))
  for server in "${servers[@]}"; do
    log="$logs/$server-c$conns"
    error="" qps_line="" cpu0="" cpu1="" busy0="" busy1="" t0=0 t1=0 client_cpu=""
    if ! start_server "$server" "$log"; then
      error="server did not print its readiness line within 15 s (see $log.out, $log.err)"
      stop_server
    else
      cpu0="$(cpu_ticks "$server_pid")"
      busy0="$(busy_ticks)"
      t0="$(date +%s%N)"
      # The client's CPU = growth of this shell's children times across its run (the
      # server, still running, is not reaped yet). Background + wait, so a signal
      # interrupts the wait at once instead of after the client.
      times >"$log.client.times0"
      "${client_pin[@]}" timeout -k 2 $((duration + 10)) "$client_bin" bench \
        --host 127.0.0.1 --port "$port" --connections "$conns" --concurrency "$concurrency" \
        --duration "$duration" --payload "$payload" --method echo --protocol "$protocol" \
        --framing framed --json >"$log.client.out" 2>"$log.client.err" &
      client_pid=$!
      client_rc=0
      wait "$client_pid" || client_rc=$?
      client_pid=""
      times >"$log.client.times1"
      t1="$(date +%s%N)"
      busy1="$(busy_ticks)"
      client_cpu="$(awk -v a="$(children_cpu "$log.client.times0")" -v b="$(children_cpu "$log.client.times1")" \
        'BEGIN { printf "%.3f", b - a }')"
      if kill -0 "$server_pid" 2>/dev/null; then
        cpu1="$(cpu_ticks "$server_pid")"
      else
        cpu1=""; error="server died during the run (see $log.err)"
      fi
      stop_server
      qps_line="$(grep '^{' "$log.client.out" | tail -1 || true)"
      if [ "$client_rc" = 124 ] || [ "$client_rc" = 137 ]; then
        error="${error:-client exceeded $((duration + 10)) s and was killed (see $log.client.err)}"
      elif [ "$client_rc" != 0 ]; then
        error="${error:-client exited with status $client_rc (see $log.client.err)}"
      elif [ -z "$qps_line" ]; then
        error="${error:-client printed no JSON line (see $log.client.out)}"
      fi
    fi
    # One JSON line per run; python3 validates the client's JSON and does the arithmetic.
    if ! SERVER="$server" CONNS="$conns" CONC="$concurrency" DURATION="$duration" PAYLOAD="$payload" \
      PROTOCOL="$protocol" CLIENT_JSON="$qps_line" ERROR="$error" CPU0="$cpu0" CPU1="$cpu1" \
      CLK_TCK="$clk_tck" T0="$t0" T1="$t1" CLIENT_CPU="$client_cpu" STAMP="$stamp" \
      BUSY0="$busy0" BUSY1="$busy1" \
      CLIENT="$client_bin" python3 - >>"$results" <<'EOF'
import json, os
e = os.environ
row = {"mode": "kernel", "stamp": e["STAMP"], "server": e["SERVER"], "connections": int(e["CONNS"]),
       "concurrency": int(e["CONC"]), "duration_s": int(e["DURATION"]), "payload": int(e["PAYLOAD"]),
       "protocol": e["PROTOCOL"], "framing": "framed", "method": "echo", "client": e["CLIENT"]}
error = e["ERROR"]
if not error:
    try:
        got = json.loads(e["CLIENT_JSON"])
        missing = [k for k in ("qps", "calls", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us") if k not in got]
        if missing:
            error = "client JSON lacks " + ", ".join(missing)
        else:
            row.update({k: got[k] for k in ("qps", "calls", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us")})
    except ValueError as x:
        error = "client JSON does not parse: %s" % x
if not error:
    wall = (int(e["T1"]) - int(e["T0"])) / 1e9
    cpu = (int(e["CPU1"]) - int(e["CPU0"])) / int(e["CLK_TCK"])
    row["wall_s"] = round(wall, 3)
    row["server_cpu_s"] = round(cpu, 3)
    row["server_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
    row["client_cpu_pct"] = round(100 * float(e["CLIENT_CPU"]) / wall, 1) if wall > 0 and e["CLIENT_CPU"] else None
    row["server_cpu_us_per_call"] = round(cpu * 1e6 / row["calls"], 3) if row["calls"] else None
    if wall > 0 and e["CLIENT_CPU"] and e["BUSY0"] and e["BUSY1"]:
        busy = (int(e["BUSY1"]) - int(e["BUSY0"])) / int(e["CLK_TCK"])
        row["other_cpu_pct"] = round(max(0.0, 100 * (busy - cpu - float(e["CLIENT_CPU"])) / wall), 1)
if error:
    row["error"] = error
print(json.dumps(row))
EOF
    then
      die "could not write the result line for $server c=$conns"
    fi
    last="$(tail -1 "$results")"
    if grep -q '"error"' <<<"$last"; then
      failed=1
      note "$server c=$conns k=$concurrency: FAILED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$last")"
    else
      note "$server c=$conns k=$concurrency: $(python3 -c 'import json,sys; r = json.loads(sys.argv[1]); print("%.0f calls/s, p50 %.1f us, server %.2f us/call" % (r["qps"], r["p50_us"], r["server_cpu_us_per_call"] or 0))' "$last")"
    fi
  done
done

# ---- table ---------------------------------------------------------------------
python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r0 = rows[0]
print()
print("== kernel sockets, loopback: echo(%d-byte string), %s/framed, %d s per run, %d calls in flight per connection"
      % (r0["payload"], r0["protocol"], r0["duration_s"], r0["concurrency"] // r0["connections"]))
hdr = "%-6s %6s %6s | %10s %9s %9s %9s | %12s %8s %8s %6s | %7s"
print(hdr % ("server", "conns", "K", "QPS", "p50 us", "p99 us", "p999 us", "CPU us/call", "srv CPU", "cli CPU", "other", "errors"))
line = "-" * 111
noisy = False
print(line)
def f(v, fmt):
    return "-" if v is None else fmt % v
by = {}
for r in rows:
    by[(r["server"], r["connections"])] = r
    if "error" in r:
        print("%-6s %6d %6d | FAILED: %s" % (r["server"], r["connections"], r["concurrency"], r["error"]))
        continue
    print(hdr % (r["server"], r["connections"], r["concurrency"], f(r["qps"], "%.0f"), f(r["p50_us"], "%.1f"),
                 f(r["p99_us"], "%.1f"), f(r["p999_us"], "%.1f"), f(r["server_cpu_us_per_call"], "%.2f"),
                 f(r["server_cpu_pct"], "%.0f%%"), f(r["client_cpu_pct"], "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%"),
                 f(r["errors"], "%d")))
    noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
print(line)
conns = sorted({r["connections"] for r in rows})
ratios = []
for c in conns:
    a, p = by.get(("apus", c)), by.get(("cpp", c))
    if not a or not p or "error" in a or "error" in p:
        continue
    q = "%.2fx" % (a["qps"] / p["qps"]) if p["qps"] else "-"
    u = ("%.2fx" % (a["server_cpu_us_per_call"] / p["server_cpu_us_per_call"])
         if a["server_cpu_us_per_call"] and p["server_cpu_us_per_call"] else "-")
    ratios.append("  conns %-4d QPS apus/cpp %7s (higher is better)   CPU/call apus/cpp %7s (lower is better)" % (c, q, u))
if ratios:
    print("apus vs Apache Thrift C++ TNonblockingServer:")
    print("\n".join(ratios))
print("CPU us/call: server CPU time (user+sys, all threads) during the client's run / calls answered.")
print("srv/cli CPU: share of one core used; a server near 100% is saturated (QPS is its capacity);")
print("a client near 100% while the server is not means the client, not the server, set the QPS.")
print("other: CPU time on the benchmark's CPUs used by anything else during the run.")
if noisy:
    print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine.")
print("raw results: %s" % sys.argv[1])
EOF

exit "$failed"
