"""What every mode shares: messages, CPU pinning, CPU accounting from /proc, the processes a
run starts (stopped on any exit, Ctrl-C included), the apus binary and the reference builds.

The accounting is the point of the benchmarks, so it is kept exactly as the bash tool did it:
a process's CPU time is utime+stime from /proc/PID/stat (all threads), a CPU's busy time is
user+nice+system+irq+softirq(+steal) from /proc/stat, and a client's CPU time is the growth of
this process's reaped children's times across the client's run (nothing else is reaped then).
"""
import hashlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROG = "bench"


class Failure(Exception):
    """A fatal error with its message: printed as `bench: error: ...`, exit status 1."""


class Interrupted(Exception):
    """SIGINT or SIGTERM: the run stops, cleans up and exits 130 (as the bash tool's trap)."""


def die(message):
    raise Failure(message)


def note(message):
    print("%s: %s" % (PROG, message), file=sys.stderr, flush=True)


def on_signals():
    """SIGINT/SIGTERM interrupt any wait at once; the caller's finally stops what runs."""
    def handler(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


class shielded:
    """Ignores SIGINT/SIGTERM while the block runs (a second Ctrl-C must not cut a teardown
    short), restoring the handlers after; the commands it runs inherit the ignoring."""

    def __enter__(self):
        self.saved = [(s, signal.signal(s, signal.SIG_IGN)) for s in (signal.SIGINT, signal.SIGTERM)]

    def __exit__(self, *exc):
        for s, handler in self.saved:
            signal.signal(s, handler)
        return False


def stamp():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def new_results(mode):
    """(stamp, results, logs) of a run: an empty .build/bench/MODE-STAMP.jsonl and the log
    directory beside it."""
    when = stamp()
    results, logs = ".build/bench/%s-%s.jsonl" % (mode, when), ".build/bench/%s-%s" % (mode, when)
    os.makedirs(logs, exist_ok=True)
    open(results, "w").close()
    return when, results, logs


def json_fields(line, keys, who):
    """The `keys` of the JSON object on `line` as a dict, and None; or None and why not
    (`who` names the program that printed it)."""
    try:
        got = json.loads(line)
    except ValueError as x:
        return None, "%s JSON does not parse: %s" % (who, x)
    missing = [k for k in keys if k not in got]
    if missing:
        return None, "%s JSON lacks %s" % (who, ", ".join(missing))
    return {k: got[k] for k in keys}, None


# ---- pinning ---------------------------------------------------------------------------

class Pins:
    """Server on CPU 0, client on CPU 1: neither steals the other's cycles, and the server's
    CPU time is its own work. Without two CPUs everything runs unpinned (with a warning)."""

    def __init__(self):
        ok = all(subprocess.run(["taskset", "-c", c, "true"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode == 0 for c in ("0", "1"))
        if ok:
            self.server, self.client, self.cpus = ["taskset", "-c", "0"], ["taskset", "-c", "1"], re.compile(r"^cpu[01] ")
        else:
            note("warning: cannot pin to CPUs 0 and 1 (fewer than 2 CPUs?); running unpinned, numbers are not comparable")
            self.server, self.client, self.cpus = [], [], re.compile(r"^cpu ")

    def _stat_lines(self):
        with open("/proc/stat") as f:
            return [line.split() for line in f if self.cpus.match(line)]

    def busy_ticks(self):
        """Busy ticks (user nice system irq softirq steal) of the benchmark's CPUs: what the
        server and client did not use of it is other load disturbing the run."""
        return sum(int(p[1]) + int(p[2]) + int(p[3]) + int(p[6]) + int(p[7]) + int(p[8]) for p in self._stat_lines())

    def steal_ticks(self):
        """Time the hypervisor ran something else on the benchmark's CPUs instead."""
        return sum(int(p[8]) for p in self._stat_lines())


def core_ticks(cpu):
    """Busy ticks of one CPU: user nice system irq softirq (not idle, iowait or steal)."""
    with open("/proc/stat") as f:
        for line in f:
            p = line.split()
            if p[0] == "cpu%d" % cpu:
                return int(p[1]) + int(p[2]) + int(p[3]) + int(p[6]) + int(p[7])
    return None


def user_sys_ticks(pid):
    """(utime, stime) of a whole process in clock ticks, or None when it is gone. The comm
    field can hold spaces: fields are counted after its closing parenthesis."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]), int(fields[12])


def cpu_ticks(pid):
    t = user_sys_ticks(pid)
    return None if t is None else t[0] + t[1]


def children_cpu():
    """user+sys seconds of this process's reaped children (the bash tool's `times`)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---- processes -------------------------------------------------------------------------

class Procs:
    """The server and the load client running now, so any exit can stop them."""
    server = None
    load = None


def start_logged(cmd, log):
    """Starts cmd with stdout to LOG.out and stderr to LOG.err (the server)."""
    with open(log + ".out", "w") as out, open(log + ".err", "w") as err:
        Procs.server = subprocess.Popen(cmd, stdout=out, stderr=err)
    return Procs.server


def wait_ready(log, pattern, check=None):
    """Polls LOG.out for pattern (15 s at most); returns the match, or None when the server
    ended or never said so. check(match) may refuse a match (returns False)."""
    proc = Procs.server
    for _ in range(150):
        m = re.search(pattern, read(log + ".out"), re.M)
        if m:
            return m if check is None or check(m) else None
        if proc.poll() is not None:
            Procs.server = None
            return None
        time.sleep(0.1)
    return None


def server_alive():
    return Procs.server is not None and Procs.server.poll() is None


def stop_server(tenths=20):
    """SIGTERM, then SIGKILL after TENTHS tenths of a second."""
    proc, Procs.server = Procs.server, None
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        for _ in range(tenths):
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    proc.wait()


def run_load(cmd, out):
    """Runs the load tool (stdout OUT.out, stderr OUT.err) to its end; returns its status.
    Its CPU time is the growth of children_cpu() around this call."""
    with open(out + ".out", "w") as o, open(out + ".err", "w") as e:
        Procs.load = subprocess.Popen(cmd, stdout=o, stderr=e)
    rc = Procs.load.wait()
    Procs.load = None
    return rc


def stop_load():
    """TERM reaches `timeout`, which passes it on (SIGKILL would orphan the load tool)."""
    proc, Procs.load = Procs.load, None
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    for _ in range(30):
        if proc.poll() is not None:
            return
        time.sleep(0.1)
    proc.kill()
    proc.wait()


def cleanup():
    with shielded():
        stop_load()
        stop_server()


# ---- builds ----------------------------------------------------------------------------

def output(cmd):
    """stdout+stderr of cmd, "" when it cannot run (probes: --help texts, versions)."""
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    except OSError:
        return ""


class Apus:
    """The apus binary: APUS_BENCH_APUS as it is, or `swift build -c release --product apus`."""

    def __init__(self):
        self.bin = os.environ.get("APUS_BENCH_APUS") or ".build/release/apus"
        self.help = None

    def build(self):
        if os.environ.get("APUS_BENCH_APUS"):
            if not os.access(self.bin, os.X_OK) or os.path.isdir(self.bin):
                die("APUS_BENCH_APUS=%s is not an executable" % self.bin)
            note("apus: %s (APUS_BENCH_APUS, not rebuilt)" % self.bin)
        else:
            if not shutil_which("swift"):
                die("no swift on PATH (nor /opt/swift/usr/bin)")
            note("building: swift build -c release --product apus (minutes the first time)")
            p = subprocess.Popen(["timeout", "3600", "swift", "build", "-c", "release", "--product", "apus"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in p.stdout:
                if not re.match(r"^\[[0-9]+/[0-9]+\]", line):
                    sys.stderr.write(line)
            if p.wait() != 0:
                die("swift build -c release --product apus failed")
            if not os.access(self.bin, os.X_OK):
                die("swift build succeeded but %s does not exist" % self.bin)
        # Subcommands are checked up front so a missing one fails at once, not per run.
        # (`apus nosuch --help` exits 0 with the top-level help: read the list instead.)
        self.help = output([self.bin, "--help"])

    def has(self, sub, command=None):
        if not re.search(r"^ +%s( |$)" % re.escape(sub), self.help or "", re.M):
            return False
        return command is None or bool(re.search(r"^ +%s( |$)" % re.escape(command), output([self.bin, sub, "--help"]), re.M))

    def option(self, words, flag):
        """Whether `apus WORDS... --help` mentions flag."""
        return flag in output([self.bin] + words + ["--help"])


def shutil_which(name):
    import shutil
    return shutil.which(name)


def sha256_files(paths):
    """The lines `sha256sum PATHS` prints (the build IDs hash them as the bash tool did)."""
    lines = []
    for p in paths:
        with open(p, "rb") as f:
            lines.append("%s  %s\n" % (hashlib.sha256(f.read()).hexdigest(), p))
    return "".join(lines)


def build_id(text):
    return hashlib.sha256(text.encode()).hexdigest()


def first_line(cmd):
    return (output(cmd).splitlines() or [""])[0]


def up_to_date(out, tools, bid):
    current = all(os.access(os.path.join(out, t), os.X_OK) for t in tools)
    return current and read(os.path.join(out, "build-id")).strip() == bid


def build_reference(what, src, out, tools, extra, inputs):
    """`bash SRC/build.sh` (which writes OUT/TOOL...) unless OUT/build-id matches the hash of
    the inputs (sources, build script, headers), EXTRA (library versions, flags) and the compiler."""
    for f in inputs:
        if not os.path.isfile(f):
            die("%s not found" % f)
    cc = os.environ.get("CC") or "cc"
    bid = build_id(sha256_files(inputs) + (extra + "\n" if extra else "") + first_line([cc, "--version"]) + "\n")
    names = " and ".join("%s/%s" % (out, t) for t in tools)
    if up_to_date(out, tools, bid):
        note("%s: %s up to date" % (what, names))
        return
    note("%s: building %s" % (what, names))
    try:
        os.remove(os.path.join(out, "build-id"))
    except OSError:
        pass
    if subprocess.run(["timeout", "600", "bash", os.path.join(src, "build.sh")], stdout=sys.stderr).returncode != 0:
        die("building the %s failed (bash %s/build.sh)" % (what, src))
    with open(os.path.join(out, "build-id"), "w") as f:
        f.write(bid + "\n")


def build_thrift_cpp(label, idl, srcs, gen_opts, gen_files, pkgs, out, tool, cxx_flags=("-O2", "-std=c++17", "-Wall", "-Wextra")):
    """A C++ tool over `thrift --gen GEN_OPTS` code of IDL, rebuilt when its inputs change
    (the IDL, the sources, the flags, pkg-config's answer, thrift's and g++'s versions)."""
    for f in [idl] + srcs:
        if not os.path.isfile(f):
            die("%s not found" % f)
    # As bash's $(...): the trailing newline dropped, a trailing space kept (it is in the hash).
    pkg = output(["pkg-config", "--cflags", "--libs"] + pkgs).rstrip("\n")
    gen = "" if gen_opts == "cpp:no_skeleton" else gen_opts + " "
    bid = build_id(sha256_files([idl] + srcs) + "%s%s %s\n" % (gen, " ".join(cxx_flags), pkg)
                   + output(["thrift", "--version"]) + first_line(["g++", "--version"]) + "\n")
    path = os.path.join(out, tool)
    if up_to_date(out, [tool], bid):
        note("C++: %s is up to date" % path)
        return path
    note("C++: generating %scode and building %s" % (gen, path))
    subprocess.run(["rm", "-rf", os.path.join(out, "gen-cpp"), os.path.join(out, "build-id")])
    os.makedirs(os.path.join(out, "gen-cpp"))
    if subprocess.run(["thrift", "--gen", gen_opts, "-out", os.path.join(out, "gen-cpp"), idl], stdout=sys.stderr).returncode:
        die("thrift --gen %s failed" % ("cpp" if gen_opts == "cpp:no_skeleton" else gen_opts))
    # libthriftnb.so is not linked against libevent itself: pkg-config names it explicitly.
    cmd = (["timeout", "600", "g++"] + list(cxx_flags) + ["-I", os.path.join(out, "gen-cpp")] + srcs
           + [os.path.join(out, "gen-cpp", g) for g in gen_files] + ["-o", path + ".tmp"] + pkg.split())
    if "thrift-nb" in pkgs:
        cmd.append("-lpthread")
    if subprocess.run(cmd, stdout=sys.stderr).returncode:
        die("building %s failed" % (path if label == "server" else tool))
    os.replace(path + ".tmp", path)
    with open(os.path.join(out, "build-id"), "w") as f:
        f.write(bid + "\n")
    return path


def build_cpp_server():
    """Benchmarks/cpp/echo_server.cpp over `thrift --gen cpp` code (kernel and rpc modes)."""
    return build_thrift_cpp("server", "Examples/echo.thrift", ["Benchmarks/cpp/echo_server.cpp"], "cpp:no_skeleton",
                            ["Echo.cpp", "echo_types.cpp"], ["thrift-nb", "libevent"], "build/bench-kernel", "echo_server")


def cpp_prerequisites():
    missing = []
    for tool, name in (("thrift", "thrift (thrift-compiler)"), ("g++", "g++"), ("taskset", "taskset (util-linux)"),
                       ("python3", "python3")):
        if not shutil_which(tool):
            missing.append(name)
    for pkg, name in (("thrift-nb", "pkg-config thrift-nb (libthrift-dev)"), ("libevent", "pkg-config libevent (libevent-dev)")):
        if subprocess.run(["pkg-config", "--exists", pkg], stderr=subprocess.DEVNULL).returncode:
            missing.append(name)
    if not boost_headers():
        missing.append("Boost headers (libboost-dev)")
    if missing:
        die("missing: %s\n  run (as root): bash scripts/setup.sh" % " ".join(missing))


def boost_headers():
    return subprocess.run(["g++", "-x", "c++", "-E", "-", "-o", "/dev/null"], input="#include <boost/numeric/conversion/cast.hpp>\n",
                          text=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
