"""What the Python check scripts share: one line per check, the closing "N passed, M failed"
line, free loopback ports, and the processes a script started (stopped, and killed at exit).

    sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
    from checks import check, free_port, spawn, stop, finish
"""
import atexit
import os
import signal
import socket
import subprocess
import sys

results = []
processes = []


def check(name, ok, detail=""):
    """Records one check and prints its line."""
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)


def free_port():
    """A loopback TCP port nothing listens on (bound to 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, **kwargs):
    """Starts `cmd` with text pipes; `finish` kills it if it is still running then."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    processes.append(process)
    return process


def stop(process, sig=signal.SIGTERM, timeout=20):
    """Sends `sig`, waits up to `timeout` (then kills); returns (exit status, rest of stderr)."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err or ""


def kill_all():
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


# Also when a script dies of an exception (a check's client library missing, say): no server outlives it.
atexit.register(kill_all)


def finish(name):
    """Kills what is left, prints "NAME: N passed, M failed" and exits 1 if any failed (or none ran)."""
    kill_all()
    failed = results.count(False)
    print(f"{name}: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed or not results else 0)


TESTBED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testbed.sh")


def in_testbed(namespace, *cmd):
    """`cmd` run in the testbed's namespace `namespace` (srv or cli)."""
    return ["bash", TESTBED, "exec", namespace, *cmd]


def testbed_up(skipped, check_name):
    """Brings the netns testbed up: True when it is; otherwise prints `skipped` (not root)
    or fails the check `check_name` with the script's last words, and returns False."""
    if os.geteuid() != 0:
        print(skipped)
        return False
    up = subprocess.run(["bash", TESTBED, "up"], capture_output=True, text=True, timeout=120)
    if up.returncode != 0:
        check(check_name, False, (up.stderr or up.stdout).strip()[-300:])
        return False
    return True


def testbed_down():
    subprocess.run(["bash", TESTBED, "down"], capture_output=True, timeout=60)
