"""tcpdump captures inside a namespace (BPF filters and flushing that work with a Hop-by-Hop header).

A BPF `udp` filter misses UDP behind a Hop-by-Hop header, so the filter is
`ip6[6] == 0 and ip6[40] == 17` (HbH first, then UDP): it also leaves out
MLD reports, which carry a HbH header followed by ICMPv6. Malformed test
packets whose HbH header is followed by UDP match too.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

from ioambytes import read_pcap

HBH_UDP_FILTER = "ip6[6] == 0 and ip6[40] == 17"


class Capture:
    def __init__(self, ns: str, iface: str, path: str, bpf: str = HBH_UDP_FILTER):
        self.ns, self.iface, self.path, self.bpf = ns, iface, path, bpf
        self.proc: subprocess.Popen | None = None
        self.stderr = ""

    def start(self, timeout: float = 5.0) -> "Capture":
        if os.path.exists(self.path):
            os.unlink(self.path)
        cmd = ["ip", "netns", "exec", self.ns, "tcpdump", "-i", self.iface, "-U", "--immediate-mode", "-n", "-s", "0",
               "-w", self.path, self.bpf]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        buf = b""
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stderr], [], [], 0.1)
            if r:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                if b"listening on" in buf:
                    self.stderr = buf.decode(errors="replace")
                    return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"tcpdump on {self.ns}/{self.iface} did not start: {buf.decode(errors='replace')}")

    def count(self) -> int:
        try:
            return len(read_pcap(self.path))
        except (OSError, ValueError):
            return 0

    def wait_for(self, n: int, timeout: float = 3.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.count()
            if c >= n:
                return c
            time.sleep(0.05)
        return self.count()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            try:
                self.stderr += self.proc.stderr.read().decode(errors="replace")
            except (OSError, ValueError):
                pass
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> "Capture":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
