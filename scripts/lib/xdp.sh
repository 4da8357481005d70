# Shared by scripts/xdp-load.sh and scripts/xdp-unload.sh (sourced, not run).
# Callers define die() and $iface.

loader_lock=/run/xdp-loader.lck

# `ip netns exec` mounts a fresh sysfs over /sys, hiding the host's bpffs and
# every pin in it; setup.sh would then mount a NEW, private bpffs whose pins
# vanish with this process. Stop before that and say how to run instead.
refuse_hidden_bpffs() {
  if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
    local current_ns
    current_ns="$(ip netns identify 2>/dev/null || true)"
    if [ -n "$current_ns" ]; then
      die "the host's bpffs is hidden inside network namespace $current_ns ('ip netns exec');
  run from the host instead: $0 $iface --netns $current_ns"
    fi
  fi
}

# xdp-loader 1.3.1 refuses to run while /run/xdp-loader.lck exists, even when
# the pid inside is dead (left behind by an xdp-loader killed with SIGKILL or
# SIGPIPE). Removes only a lock whose owner is gone; returns 1 (printing the
# owner) when a live xdp-loader holds it.
clear_stale_loader_lock() {
  [ -e "$loader_lock" ] || return 0
  local owner
  owner="$(tr -dc 0-9 <"$loader_lock" 2>/dev/null || true)"
  if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
    echo "$owner"
    return 1
  fi
  echo "removing stale $loader_lock (pid ${owner:-?} is gone)" >&2
  rm -f "$loader_lock"
}
