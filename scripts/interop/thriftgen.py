"""Generates Python bindings for the interop IDL files with Apache's compiler.

The interop scripts import Apache's own generated code (module `apus_echo`
for Examples/echo.thrift) rather than a checked-in copy, so the reference
side is always exactly what the installed Thrift compiler and library
produce for the shared IDL.
"""
import os
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IDL = os.path.join(REPO_ROOT, "Examples", "echo.thrift")


def compile_idl(tmpdir, idl=IDL, generator="py"):
    """Runs `thrift --gen <generator>` on `idl`, writing into `tmpdir`."""
    if shutil.which("thrift") is None:
        raise SystemExit("thriftgen: `thrift` not found; install thrift-compiler: bash scripts/setup.sh")
    p = subprocess.run(["thrift", "--gen", generator, "-out", tmpdir, idl],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"thriftgen: thrift --gen {generator} {idl} failed (exit {p.returncode}):\n{p.stderr}")


def generate(tmpdir, idl=IDL):
    """Compiles `idl` (Examples/echo.thrift unless given) into `tmpdir`, puts it on sys.path and returns it."""
    compile_idl(tmpdir, idl)
    if tmpdir not in sys.path:
        sys.path.insert(0, tmpdir)
    return tmpdir
