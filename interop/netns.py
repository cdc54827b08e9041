"""Network-namespace topology: sender -> r1 -> r2 -> r3 -> receiver.

Every namespace name starts with PREFIX followed by the driver's pid, so
concurrent runs do not collide and leftovers of a killed run (whose pid is
gone) are removed at the next start. All links are veth pairs with static
IPv6 addresses (no DAD), static routes and permanent neighbour entries, so
nothing waits for neighbour discovery.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field

PREFIX = "ioamit"
IOAM_NS = 123  # the IOAM namespace every router knows
OTHER_NS = 0x7ABC  # a namespace no router is configured for
SINK_PORT = 9999  # UDP port the receiver listens on


class TopologyError(Exception):
    pass


def sh(*args: str, check: bool = True, ns: str | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    cmd = list(args)
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if check and r.returncode != 0:
        raise TopologyError(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r


@dataclass
class Router:
    name: str
    node_id: int
    node_id_wide: int
    in_if: str
    out_if: str
    in_id: int
    out_id: int
    in_id_wide: int
    out_id_wide: int
    ns_data: int
    ns_data_wide: int
    schema_id: int | None = None
    schema_data: bytes = b""
    local: bool = False  # the destination: egress ids and queue depth unavailable

    @property
    def hop(self) -> int:
        """Position on the path: r1 is hop 1."""
        return int(self.name[1:])

    def oss_words(self) -> int:
        """Words of the OSS this router writes (header + padded data)."""
        if self.schema_id is None:
            return 1
        return 1 + (len(self.schema_data) + 3) // 4


@dataclass
class Topology:
    tag: str = field(default_factory=lambda: f"{PREFIX}{os.getpid()}")
    routers: list[Router] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    sender_addr = "2001:db8:1::1"
    receiver_addr = "2001:db8:4::2"

    def ns(self, role: str) -> str:
        return f"{self.tag}-{role}"

    # Link plan: (left ns, left if, left addr, right ns, right if, right addr)
    def links(self) -> list[tuple[str, str, str, str, str, str]]:
        return [
            ("snd", "s0", "2001:db8:1::1", "r1", "r1i", "2001:db8:1::2"),
            ("r1", "r1o", "2001:db8:2::1", "r2", "r2i", "2001:db8:2::2"),
            ("r2", "r2o", "2001:db8:3::1", "r3", "r3i", "2001:db8:3::2"),
            ("r3", "r3o", "2001:db8:4::1", "rcv", "rcv0", "2001:db8:4::2"),
        ]

    @staticmethod
    def default_routers() -> list[Router]:
        return [
            Router("r1", 0x0A0001, 0x0A00000000AA01, "r1i", "r1o", 101, 102, 0x0B000101, 0x0B000102,
                   0xD1000001, 0xD1D1000000000001),
            Router("r2", 0x0A0002, 0x0A00000000AA02, "r2i", "r2o", 201, 202, 0x0B000201, 0x0B000202,
                   0xD2000002, 0xD2D2000000000002),
            # r3 has a schema bound to the namespace; 6 bytes of data, padded to 8 by the kernel.
            Router("r3", 0x0A0003, 0x0A00000000AA03, "r3i", "r3o", 301, 302, 0x0B000301, 0x0B000302,
                   0xD3000003, 0xD3D3000000000003, schema_id=0x5EED, schema_data=b"r3data"),
        ]

    # ------------------------------------------------------------------
    @staticmethod
    def cleanup_stale() -> list[str]:
        """Delete namespaces left by earlier runs whose driver is gone."""
        removed = []
        r = sh("ip", "netns", "list", check=False)
        for line in r.stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            m = re.match(rf"^{PREFIX}(\d+)-", name)
            if not m:
                continue
            pid = int(m.group(1))
            if not driver_alive(pid) or pid == os.getpid():
                kill_ns_pids(name)
                sh("ip", "netns", "del", name, check=False)
                removed.append(name)
        return removed

    def up(self) -> None:
        self.routers = self.default_routers()
        for role in ("snd", "r1", "r2", "r3", "rcv"):
            name = self.ns(role)
            sh("ip", "netns", "add", name)
            self.created.append(name)
            n = name
            sh("ip", "link", "set", "lo", "up", ns=n)
            sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
               "net.ipv6.conf.all.router_solicitations=0", "net.ipv6.conf.default.router_solicitations=0",
               ns=n)
        macs = {}
        for i, (lns, lif, laddr, rns, rif, raddr) in enumerate(self.links()):
            lmac = f"02:00:00:00:{i + 1:02x}:01"
            rmac = f"02:00:00:00:{i + 1:02x}:02"
            macs[(lns, lif)] = lmac
            macs[(rns, rif)] = rmac
            sh("ip", "link", "add", lif, "netns", self.ns(lns), "address", lmac, "type", "veth",
               "peer", "name", rif, "netns", self.ns(rns), "address", rmac)
            for nsr, ifn, addr, peer_addr, peer_mac in (
                (lns, lif, laddr, raddr, rmac),
                (rns, rif, raddr, laddr, lmac),
            ):
                n = self.ns(nsr)
                sh("sysctl", "-qw", f"net.ipv6.conf.{ifn}.accept_dad=0", ns=n)
                sh("ip", "-6", "addr", "add", f"{addr}/64", "dev", ifn, "nodad", ns=n)
                sh("ip", "link", "set", ifn, "up", ns=n)
                sh("ip", "-6", "neigh", "replace", peer_addr, "lladdr", peer_mac, "dev", ifn,
                   "nud", "permanent", ns=n)
        # Routes.
        sh("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2", ns=self.ns("snd"))
        sh("ip", "-6", "route", "add", "default", "via", "2001:db8:4::1", ns=self.ns("rcv"))
        sh("ip", "-6", "route", "add", "2001:db8:3::/64", "via", "2001:db8:2::2", ns=self.ns("r1"))
        sh("ip", "-6", "route", "add", "2001:db8:4::/64", "via", "2001:db8:2::2", ns=self.ns("r1"))
        sh("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:2::1", ns=self.ns("r2"))
        sh("ip", "-6", "route", "add", "2001:db8:4::/64", "via", "2001:db8:3::2", ns=self.ns("r2"))
        sh("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:3::1", ns=self.ns("r3"))
        sh("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:3::1", ns=self.ns("r3"))
        # IOAM on the routers.
        for r in self.routers:
            n = self.ns(r.name)
            sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
               f"net.ipv6.ioam6_id={r.node_id}", f"net.ipv6.ioam6_id_wide={r.node_id_wide}",
               f"net.ipv6.conf.{r.in_if}.ioam6_enabled=1",
               f"net.ipv6.conf.{r.in_if}.ioam6_id={r.in_id}",
               f"net.ipv6.conf.{r.in_if}.ioam6_id_wide={r.in_id_wide}",
               f"net.ipv6.conf.{r.out_if}.ioam6_id={r.out_id}",
               f"net.ipv6.conf.{r.out_if}.ioam6_id_wide={r.out_id_wide}", ns=n)
            sh("ip", "ioam", "namespace", "add", str(IOAM_NS), "data", str(r.ns_data),
               "wide", f"{r.ns_data_wide:016x}", ns=n)
            if r.schema_id is not None:
                sh("ip", "ioam", "schema", "add", str(r.schema_id), r.schema_data.decode(), ns=n)
                sh("ip", "ioam", "namespace", "set", str(IOAM_NS), "schema", str(r.schema_id), ns=n)
        self.verify_config()
        self.start_sink()

    def start_sink(self) -> None:
        """A UDP socket on the receiver, so datagrams are consumed instead of drawing ICMPv6
        Port Unreachable (which would make a connected sender see ECONNREFUSED)."""
        code = ("import socket, threading\n"
                "def tcp():\n"
                "    t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
                "    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"    t.bind(('::', {SINK_PORT})); t.listen(16)\n"
                "    while True:\n"
                "        c, _ = t.accept()\n"
                "        threading.Thread(target=lambda c=c: [None for _ in iter(lambda: c.recv(65535), b'')] and c.close(),"
                " daemon=True).start()\n"
                "threading.Thread(target=tcp, daemon=True).start()\n"
                "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                f"s.bind(('::', {SINK_PORT}))\n"
                "while True:\n    s.recv(65535)\n")
        self.sink = subprocess.Popen(["ip", "netns", "exec", self.ns("rcv"), "python3", "-c", code],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            r = sh("ss", "-Hlutn", f"sport = :{SINK_PORT}", ns=self.ns("rcv"), check=False)
            if len(r.stdout.strip().splitlines()) >= 2:
                return
            time.sleep(0.05)
        raise TopologyError("UDP sink on the receiver did not start")

    def verify_config(self) -> None:
        """Read back what the kernel holds, so a misconfiguration fails loudly."""
        for r in self.routers:
            n = self.ns(r.name)
            got = sh("sysctl", "-n", "net.ipv6.ioam6_id", ns=n).stdout.strip()
            if int(got) != r.node_id:
                raise TopologyError(f"{r.name}: ioam6_id is {got}, wanted {r.node_id}")
            out = sh("ip", "ioam", "namespace", "show", ns=n).stdout
            if f"namespace {IOAM_NS}" not in out:
                raise TopologyError(f"{r.name}: namespace {IOAM_NS} missing: {out!r}")
            m = re.search(r"data (0x[0-9a-f]+)", out)
            if not m or int(m.group(1), 16) != r.ns_data:
                raise TopologyError(f"{r.name}: namespace data {out!r}, wanted 0x{r.ns_data:08x}")
            m = re.search(r"wide (0x[0-9a-f]+)", out)
            if not m or int(m.group(1), 16) != r.ns_data_wide:
                raise TopologyError(f"{r.name}: namespace wide {out!r}, wanted 0x{r.ns_data_wide:016x}")

    def down(self) -> None:
        sink = getattr(self, "sink", None)
        if sink is not None and sink.poll() is None:
            sink.terminate()
            try:
                sink.wait(timeout=2)
            except subprocess.TimeoutExpired:
                sink.kill()
        for name in reversed(self.created):
            kill_ns_pids(name)
            sh("ip", "netns", "del", name, check=False)
        self.created.clear()

    def router(self, name: str) -> Router:
        for r in self.routers:
            if r.name == name:
                return r
        raise KeyError(name)


def driver_alive(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) interop driver; a reused pid does not count."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and b"run.py" in cmd


def kill_ns_pids(name: str) -> None:
    """Stop processes this suite started inside namespace `name` (by pid)."""
    r = sh("ip", "netns", "pids", name, check=False)
    for tok in r.stdout.split():
        try:
            os.kill(int(tok), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    if r.stdout.strip():
        time.sleep(0.1)


def netns_available() -> tuple[bool, str]:
    """Whether this process can create a network namespace (and why not)."""
    if os.geteuid() != 0:
        return False, "not running as root"
    probe = f"{PREFIX}{os.getpid()}-probe"
    r = sh("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        return False, f"`ip netns add` failed: {r.stderr.strip()}"
    try:
        r2 = sh("ip", "link", "set", "lo", "up", ns=probe, check=False)
        if r2.returncode != 0:
            return False, f"cannot configure a namespace: {r2.stderr.strip()}"
        r3 = sh("sysctl", "-n", "net.ipv6.ioam6_id", ns=probe, check=False)
        if r3.returncode != 0:
            return False, "the kernel has no IPv6 IOAM support (net.ipv6.ioam6_id missing)"
        r4 = sh("ip", "ioam", "namespace", "show", ns=probe, check=False)
        if r4.returncode != 0:
            return False, f"`ip ioam` unavailable: {r4.stderr.strip()}"
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return True, ""
