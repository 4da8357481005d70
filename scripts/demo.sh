#!/usr/bin/env bash
# The Apus demo: a Thrift RPC server on AF_XDP in a network-namespace testbed, benchmarked
# with a kernel-TCP client and with an Apus AF_XDP client, and called by Apache Thrift's
# Python client.
#
#   sudo bash scripts/demo.sh
#
# As root (on a fresh clone too):
#   1. installs what is missing (scripts/setup.sh: Debian packages, bpffs);
#   2. builds .build/release/apus (swift build -c release --product apus);
#   3. brings the testbed up with APUS_CLIENT_XDP=1 (scripts/testbed.sh: namespaces apus-srv
#      and apus-cli joined by a veth pair, Apus's XDP program on both ends);
#   4. starts `apus serve --transport xdp` (Echo and KV) on AF_XDP queue 0 of apus-s in
#      apus-srv, owning 10.10.0.10:9090, through `scripts/testbed.sh exec` (which keeps the
#      pinned maps visible), on CPU 0;
#   5. from apus-cli, on CPU 1: 3 s of `apus bench` (64-byte echo, 16 connections, 64 calls
#      in flight) over the kernel's TCP, then 3 s over Apus's own TCP on AF_XDP (apus-c,
#      owning 10.10.0.20);
#   6. a few KV calls through Apache Thrift's Python client (scripts/interop/demo_kv.py);
#   7. stops the server (SIGTERM: it drains and prints its queue's counters, which must show
#      every UMEM frame home), prints a summary (path, QPS, p50/p99; the KV calls) and tears
#      the testbed down, also on failure or Ctrl-C.
# Not root: it says so and runs the same demo over kernel sockets on loopback: `apus serve
# --transport kernel` on 127.0.0.1 (a free port), `apus bench` with the kernel client, the
# KV calls. It ends with `demo: ok`, or with `demo: error: ...` and exit status 1.
#
# Environment:
#   APUS_DEMO_FORCE_KERNEL=1  the loopback demo even as root
#   APUS_DEMO_APUS=/path      this apus binary instead of building .build/release/apus
#   APUS_NS_SRV, APUS_NS_CLI, APUS_IF_SRV, APUS_IF_CLI, APUS_IP_OWNED, APUS_IP_OWNED_CLI, ...
#                             the testbed's names and addresses (see scripts/testbed.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "demo: error: $*" >&2; exit 1; }
note() { echo "demo: $*" >&2; }
case "${1:-}" in
  "") ;;
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  *) die "no arguments expected, got '$1' (see: bash scripts/demo.sh --help)" ;;
esac
export PATH="/opt/swift/usr/bin:$PATH"

# The testbed's names, read as scripts/testbed.sh reads them (it sees the same environment).
ns_srv="${APUS_NS_SRV:-apus-srv}" ns_cli="${APUS_NS_CLI:-apus-cli}"
if_srv="${APUS_IF_SRV:-apus-s}" if_cli="${APUS_IF_CLI:-apus-c}"
ip_owned="${APUS_IP_OWNED:-10.10.0.10}" ip_owned_cli="${APUS_IP_OWNED_CLI:-10.10.0.20}"
xdp_port=9090 seconds=3 connections=16 concurrency=64 payload=64

if [ "$(id -u)" != 0 ]; then
  xdp=0
  note "not root: AF_XDP, XDP and network namespaces need root; running the same demo over kernel sockets on loopback"
elif [ "${APUS_DEMO_FORCE_KERNEL:-0}" = 1 ]; then
  xdp=0
  note "APUS_DEMO_FORCE_KERNEL=1: running the demo over kernel sockets on loopback"
else
  xdp=1
fi

# Server on CPU 0, clients on CPU 1, when there are two.
if taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
  server_pin=(taskset -c 0) client_pin=(taskset -c 1) client_cpu=(--cpu 1)
else
  server_pin=() client_pin=() client_cpu=()
fi

# ---- install, build ------------------------------------------------------------
bash scripts/setup.sh || die "scripts/setup.sh failed (as root it installs what is missing)"
# Debian's Python, which has Apache Thrift's library (python3-thrift), whatever python3 is on PATH.
python=/usr/bin/python3
missing=()
for tool in taskset timeout stdbuf; do command -v "$tool" >/dev/null || missing+=("$tool"); done
command -v thrift >/dev/null || missing+=("thrift (thrift-compiler)")
"$python" -c 'import thrift' 2>/dev/null || missing+=("$python with thrift (python3-thrift)")
((${#missing[@]} == 0)) || die "missing: ${missing[*]}; run (as root): bash scripts/setup.sh"

apus="${APUS_DEMO_APUS:-.build/release/apus}"
. scripts/lib/build.sh
build_release_apus "$apus" APUS_DEMO_APUS
# Absolute: the namespaces' commands run it too.
apus="$(readlink -f "$apus")"
started=$SECONDS

# ---- teardown ------------------------------------------------------------------
logs="$(mktemp -d "${TMPDIR:-/tmp}/apus-demo.XXXXXX")"
server_pid="" client_pid="" testbed_up=0 succeeded=0
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  if [ -n "$client_pid" ]; then
    # TERM reaches `timeout`, which passes it on (SIGKILL would orphan the client).
    kill -TERM "$client_pid" 2>/dev/null || true
    local i
    for i in $(seq 30); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$client_pid" 2>/dev/null || true
  fi
  stop_server
  if ((testbed_up)); then
    # Also ends whatever is left in the namespaces and removes the programs and their pins.
    timeout 120 bash scripts/testbed.sh down >"$logs/testbed-down.log" 2>&1 || true
    if [ -e "/run/netns/$ns_srv" ] || [ -e "/run/netns/$ns_cli" ] || [ -e "/sys/fs/bpf/apus/$if_srv" ]; then
      note "warning: the testbed is not fully down; run: bash scripts/testbed.sh down"
    fi
  fi
  if ((succeeded)); then rm -rf "$logs"; else note "logs: $logs"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_client NAME SECONDS CMD...: CMD bounded by SECONDS, its output in $logs/NAME.out and
# .err; background + wait, so a signal interrupts the wait at once. Sets client_rc.
run_client() {
  local name="$1" budget="$2"; shift 2
  timeout -k 2 "$budget" "$@" >"$logs/$name.out" 2>"$logs/$name.err" &
  client_pid=$!
  client_rc=0
  wait "$client_pid" || client_rc=$?
  client_pid=""
}
# The clients' prefix: on CPU 1, in the client namespace (testbed) or here (loopback).
in_cli=("${client_pin[@]}")
((xdp == 0)) || in_cli+=(bash scripts/testbed.sh exec cli)

# bench NAME LABEL HOST PORT [XDP CLIENT OPTIONS...]: a short `apus bench --json`; its JSON
# line goes to $logs/NAME.json and a summary row to $logs/rows.
bench() {
  local name="$1" label="$2" host="$3" port="$4" line
  shift 4
  note "$label: $seconds s of apus bench ($connections connections, $concurrency calls in flight)"
  run_client "$name" $((seconds + 20)) "${in_cli[@]}" "$apus" bench --host "$host" --port "$port" \
    --connections "$connections" --concurrency "$concurrency" --duration "$seconds" --payload "$payload" \
    --method echo --json "$@"
  line="$(grep '^{' "$logs/$name.out" | tail -1 || true)"
  [ "$client_rc" = 0 ] && [ -n "$line" ] || die "$label: apus bench failed (exit status $client_rc):
$(tail -5 "$logs/$name.err" "$logs/$name.out" 2>/dev/null)"
  LABEL="$label" "$python" -c '
import json, os, sys
r = json.loads(sys.argv[1])
if r["errors"] or r["mismatches"]:
    sys.exit("%d errors, %d mismatches" % (r["errors"], r["mismatches"]))
print("%-48s %10.0f %9.1f %9.1f" % (os.environ["LABEL"], r["qps"], r["p50_us"], r["p99_us"]))' "$line" \
    >>"$logs/rows" 2>"$logs/$name.check" || die "$label: $(cat "$logs/$name.check")"
}

# ---- the server ----------------------------------------------------------------
: >"$logs/rows"
if ((xdp)); then
  # Someone else's testbed would be torn down by ours (testbed.sh up starts with a down).
  for ns in "$ns_srv" "$ns_cli"; do
    [ ! -e "/run/netns/$ns" ] || die "network namespace $ns exists: another testbed user may be running.
  If none is: bash scripts/testbed.sh down (or use other names: APUS_NS_SRV, APUS_NS_CLI, APUS_IF_SRV, APUS_IF_CLI)"
  done
  for dev in "$if_srv" "$if_cli"; do
    [ ! -e "/sys/fs/bpf/apus/$dev" ] || die "/sys/fs/bpf/apus/$dev exists: another testbed uses interface $dev.
  If none does: bash scripts/xdp-unload.sh $dev (or set APUS_IF_SRV and APUS_IF_CLI to other names)"
  done
  note "testbed: up ($ns_srv/$if_srv <-> $ns_cli/$if_cli, XDP program on both ends)"
  testbed_up=1
  APUS_CLIENT_XDP=1 timeout 300 bash scripts/testbed.sh up >"$logs/testbed-up.log" 2>&1 \
    || die "scripts/testbed.sh up failed:
$(tail -5 "$logs/testbed-up.log")"
  server_cmd=("$apus" serve --transport xdp --interface "$if_srv" --queues 0 --address "$ip_owned"
              --port "$xdp_port")
  ((${#server_pin[@]} == 0)) || server_cmd+=(--cpus 0)
  # testbed.sh exec, nsenter, unshare, sh and stdbuf all exec: server_pid is the server.
  "${server_pin[@]}" bash scripts/testbed.sh exec srv stdbuf -oL "${server_cmd[@]}" >"$logs/server.out" 2>"$logs/server.err" &
  server_pid=$!
  pattern="listening on ${ip_owned//./\\.}:$xdp_port"
else
  "${server_pin[@]}" stdbuf -oL "$apus" serve --transport kernel --host 127.0.0.1 --port 0 \
    >"$logs/server.out" 2>"$logs/server.err" &
  server_pid=$!
  pattern='listening on 127\.0\.0\.1:[0-9]+'
fi
listening="" why="did not start listening within 15 s"
for i in $(seq 150); do
  listening="$(grep -m1 -E "^apus serve: $pattern" "$logs/server.out" 2>/dev/null || true)"
  [ -z "$listening" ] || break
  kill -0 "$server_pid" 2>/dev/null || { server_pid="" why="exited before it listened"; break; }
  sleep 0.1
done
[ -n "$listening" ] || die "apus serve $why:
$(tail -5 "$logs/server.err" "$logs/server.out" 2>/dev/null)"
echo "$listening"
if ((xdp)); then
  host="$ip_owned" port="$xdp_port" server_label="Apus XDP server"
else
  host=127.0.0.1 port="$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$listening" | head -1 | cut -d: -f2)"
  server_label="Apus kernel-socket server"
fi

# ---- the clients ---------------------------------------------------------------
bench bench-kernel "kernel TCP client -> $server_label" "$host" "$port"
if ((xdp)); then
  bench bench-xdp "Apus XDP client -> $server_label" "$host" "$port" \
    --transport xdp --interface "$if_cli" --address "$ip_owned_cli" "${client_cpu[@]}"
fi
note "KV calls through Apache Thrift's Python client"
run_client kv 90 "${in_cli[@]}" "$python" "$PWD/scripts/interop/demo_kv.py" "$host" "$port"
grep -q '^kv: ok$' "$logs/kv.out" && [ "$client_rc" = 0 ] || die "the KV calls failed (exit status $client_rc):
$(cat "$logs/kv.out"; tail -5 "$logs/kv.err")"

# ---- stop the server, summary --------------------------------------------------
stop_server
queue_line=""
if ((xdp)); then
  queue_line="$(grep -m1 '^apus serve: queue 0: ' "$logs/server.out" || true)"
  [ -n "$queue_line" ] || die "the server printed no 'queue 0:' line when stopped:
$(tail -5 "$logs/server.err" "$logs/server.out" 2>/dev/null)"
  grep -q ' frames_in_app=0\( \|$\)' <<<"$queue_line" \
    || die "not every UMEM frame came home after the server stopped: $queue_line"
fi

echo
echo "== Apus demo: echo(${payload}-byte string), $connections connections, $concurrency calls in flight, $seconds s per path"
printf '%-48s %10s %9s %9s\n' path QPS "p50 us" "p99 us"
printf '%s\n' "$(printf -- '-%.0s' $(seq 79))"
cat "$logs/rows"
echo
echo "KV through Apache Thrift's Python client -> $server_label ($host:$port):"
grep '^kv: ' "$logs/kv.out" | grep -v '^kv: ok$' | sed 's/^kv: /  /'
if [ -n "$queue_line" ]; then
  echo
  echo "server stopped: ${queue_line#apus serve: }"
  echo "  (frames_in_app=0: every UMEM frame is home)"
fi
echo
note "took $((SECONDS - started)) s after the build"
succeeded=1
echo "demo: ok"
