#!/usr/bin/env python3
"""Hostile clients against mnist-serve, each case measured: /health latency while it lasts, the server's
peak and final resident memory (VmHWM, VmRSS from /proc), and the time SIGTERM takes to stop it.

Starts the server itself (so it can read its /proc entry and signal it), under a soft limit on open files
of 1,024 as many systems have (--descriptors to change it). Python's standard library only. Prints one line per case and, with --check,
exits 1 when a case fails what the limits promise (docs/serving.md, "Limits").

Usage: scripts/stress_server.py --server PATH/mnist-serve --weights FILE [--cases all] [--check]
"""

import argparse
import http.client
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib

HOST = "127.0.0.1"


def start(server, weights, port, log, descriptors):
    """The server process, once /health answers, started with a soft limit of `descriptors` open files."""

    def limit_descriptors():
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(descriptors, hard), hard))

    process = subprocess.Popen(
        [server, "--weights", weights, "--host", HOST, "--port", str(port)],
        stdout=log, stderr=log, preexec_fn=limit_descriptors)
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"stress_server: the server exited with {process.returncode}")
        try:
            health(port, timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    sys.exit("stress_server: the server did not answer /health in 30 s")


def health(port, timeout=10.0):
    """Seconds GET /health took on a new connection; raises on a failure or a status other than 200."""
    start = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise OSError(f"/health answered {response.status}")
    finally:
        connection.close()
    return time.monotonic() - start


def health_samples(port, count=5, timeout=10.0):
    """The worst of `count` /health latencies, in ms, or 'timeout/error'."""
    worst = 0.0
    for _ in range(count):
        try:
            worst = max(worst, health(port, timeout))
        except OSError as error:
            return f"failed ({error.__class__.__name__}: {error})"
        time.sleep(0.05)
    return f"{worst * 1000:.1f} ms"


def memory(pid):
    """(VmHWM, VmRSS) in MB; raises ProcessLookupError once the server has exited."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
    if "VmHWM" not in fields:
        raise ProcessLookupError("the server has exited")
    return fields["VmHWM"], fields["VmRSS"]


def connect(port):
    connection = socket.create_connection((HOST, port), timeout=5)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return connection


def closed_by_server(connections, wait):
    """How many of `connections` the server has closed (read gives EOF or a reset) within `wait` seconds."""
    deadline = time.monotonic() + wait
    closed = 0
    for connection in connections:
        connection.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if connection.recv(65536) == b"":
                closed += 1
            else:
                # An answer (408, 400…) then EOF also counts as closed.
                connection.settimeout(1)
                closed += connection.recv(65536) == b""
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except OSError:
            pass
    return closed


def png_bomb(width, height):
    """A gray 8-bit PNG of zeros: tens of KB that decode to width × height pixels."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def case_slow_headers(port, pid, count=1100):
    """`count` connections each stalled in the middle of its headers."""
    connections = []
    for _ in range(count):
        try:
            connection = connect(port)
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            connections.append(connection)
        except OSError:
            break
    latency = health_samples(port)
    closed = closed_by_server(connections, 25)
    for connection in connections:
        connection.close()
    return {"opened": len(connections), "health": latency, "closed by server within 25 s": closed}


def case_idle(port, pid, count=200):
    """`count` connections that send nothing at all."""
    connections = [connect(port) for _ in range(count)]
    latency = health_samples(port)
    closed = closed_by_server(connections, 25)
    for connection in connections:
        connection.close()
    return {"opened": count, "health": latency, "closed by server within 25 s": closed}


def case_partial_bodies(port, pid, count=3000, size=1 << 20):
    """`count` connections each sending all but the last byte of a 1 MB body, then stalling."""
    connections = []
    chunk = b" " * (size - 1)
    started = time.monotonic()
    for _ in range(count):
        try:
            connection = connect(port)
            connection.settimeout(2)
            connection.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {size}\r\n\r\n".encode())
            try:
                connection.sendall(chunk)
            except (socket.timeout, ConnectionResetError, BrokenPipeError):
                pass
            connections.append(connection)
        except OSError:
            break
    sent = time.monotonic() - started
    latency = health_samples(port)
    peak, during = memory(pid)
    for connection in connections:
        connection.close()
    time.sleep(3)
    _, after = memory(pid)
    return {
        "opened": len(connections), "sending took": f"{sent:.1f} s", "health": latency,
        "peak RSS": f"{peak:.0f} MB", "RSS during": f"{during:.0f} MB", "RSS 3 s after close": f"{after:.0f} MB"}


def case_image_bombs(port, pid, count=64):
    """`count` clients at once, each POSTing a PNG of 20000×2000 zeros (about 40 KB)."""
    bomb = png_bomb(20000, 2000)
    statuses = []
    lock = threading.Lock()

    def post():
        try:
            request = urllib.request.Request(
                f"http://{HOST}:{port}/predict", data=bomb, headers={"Content-Type": "image/png"})
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            status = error.__class__.__name__
        with lock:
            statuses.append(status)

    started = time.monotonic()
    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    latency = health_samples(port)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    peak, after = memory(pid)
    summary = {str(status): statuses.count(status) for status in set(statuses)}
    return {
        "bomb": f"{len(bomb)} bytes", "statuses": summary, "all answered in": f"{elapsed:.2f} s",
        "health": latency, "peak RSS": f"{peak:.0f} MB"}


def case_large_body_urllib(port, pid, size=20 << 20):
    """Python's urllib POSTing 20 MB without `Expect: 100-continue`: does it get the 413?"""
    started = time.monotonic()
    request = urllib.request.Request(
        f"http://{HOST}:{port}/predict", data=b" " * size, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            outcome = response.status
    except urllib.error.HTTPError as error:
        outcome = error.code
    except OSError as error:
        outcome = f"{error.__class__.__name__}: {error}"
    return {"outcome": outcome, "after": f"{time.monotonic() - started:.2f} s"}


def case_sigterm_stalled(port, pid, process):
    """SIGTERM while a client is stalled in the middle of its body: how long until the server exits."""
    connection = connect(port)
    connection.sendall(
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"pix")
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
        stopped = f"{time.monotonic() - started:.2f} s (exit {process.returncode})"
    except subprocess.TimeoutExpired:
        stopped = "not within 60 s"
        process.kill()
        process.wait()
    connection.close()
    return {"stopped after": stopped}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--cases", default="all")
    parser.add_argument("--log", default=os.devnull)
    parser.add_argument("--check", action="store_true")
    parser.add_argument(
        "--descriptors", type=int, default=1024, help="the server's soft limit on open files (default 1024)")
    arguments = parser.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    cases = {
        "slow-headers": case_slow_headers, "idle": case_idle, "partial-bodies": case_partial_bodies,
        "image-bombs": case_image_bombs, "large-body-urllib": case_large_body_urllib,
    }
    chosen = list(cases) + ["sigterm-stalled"] if arguments.cases == "all" else arguments.cases.split(",")
    results = {}
    with open(arguments.log, "ab") as log:
        for name in chosen:
            # A fresh server for each case, so each peak is the case's own.
            process = start(arguments.server, arguments.weights, arguments.port, log, arguments.descriptors)
            load = os.getloadavg()[0]
            if name == "sigterm-stalled":
                result = case_sigterm_stalled(arguments.port, process.pid, process)
            else:
                try:
                    result = cases[name](arguments.port, process.pid)
                except ProcessLookupError:
                    result = {"outcome": f"the server died (exit status {process.wait()})"}
                result["health after"] = health_samples(arguments.port, count=1)
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            result["load average"] = f"{load:.2f}"
            results[name] = result
            print(f"{name}: " + ", ".join(f"{key} {value}" for key, value in result.items()), flush=True)
            time.sleep(1)

    if arguments.check:
        failures = []
        for name, result in results.items():
            if str(result.get("outcome", "")).startswith("the server died"):
                failures.append(f"{name}: {result['outcome']}")
            for key, value in result.items():
                if key.startswith("health") and str(value).startswith("failed"):
                    failures.append(f"{name}: {key} {value}")
        if "large-body-urllib" in results and results["large-body-urllib"]["outcome"] != 413:
            failures.append(f"large-body-urllib: {results['large-body-urllib']['outcome']}, not 413")
        if "sigterm-stalled" in results and not results["sigterm-stalled"]["stopped after"].endswith("(exit 0)"):
            failures.append(f"sigterm-stalled: {results['sigterm-stalled']['stopped after']}")
        for name in ("slow-headers", "idle"):
            if name in results and results[name]["closed by server within 25 s"] != results[name]["opened"]:
                failures.append(f"{name}: not every connection was closed by the server")
        if failures:
            sys.exit("stress_server: " + "; ".join(failures))
        print("stress_server: all passed")


if __name__ == "__main__":
    main()
