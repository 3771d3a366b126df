"""Helpers shared by the Python integration tests: free loopback ports, a
Python client generated from protos/, bounded polling."""
import os
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_stubs(source, out):
    """Generates Python stubs for every proto under <source>/protos into
    `out` and makes them importable."""
    os.makedirs(out)
    protos = []
    for dirpath, _, files in os.walk(os.path.join(source, "protos")):
        protos += [os.path.join(dirpath, f) for f in files if f.endswith(".proto")]
    subprocess.run(
        ["protoc", "-I" + os.path.join(source, "protos"), "-I/usr/share/grpc-proto",
         "-I/usr/include", "--python_out=" + out, "--grpc_out=" + out,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos,
        check=True)
    sys.path.insert(0, out)


def wait_for(predicate, what, timeout=30.0):
    """Polls `predicate` until it returns something truthy (returned), or
    fails after `timeout` seconds of real time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)
