"""Sockets and threads a test leaves behind, named in that test instead of at session end.

A socket nobody closed is found by the garbage collector whenever it happens to run: once,
at the very end of a run, where `filterwarnings = error` turned its ResourceWarning into a
failure of the whole session. Here every test is checked on its own: after its teardown the
collector runs, unclosed sockets it finds are reported, and sockets or threads that are still
open although nothing long-lived owns them are named with what they are connected to.

Sockets and threads opened while a session-, package- or module-scoped fixture was set up
belong to that fixture (a livekit-server, a live app, a browser) and are not leaks.
"""

import gc
import os
import socket
import threading
import time
import traceback
import tracemalloc
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path

PROC_NET = ("tcp", "tcp6", "udp", "udp6", "unix")


# Where each thread and Python socket was made, recorded by `record_origins` so a report can
# name the line of our code that opened it.
ORIGINS: "weakref.WeakKeyDictionary[object, str]" = weakref.WeakKeyDictionary()
NOT_OURS = ("/threading.py", "/socket.py", "/concurrent/", "/asyncio/", "/selectors.py")
# Threads a library starts for its own event loop's executor live as long as that library's
# long-lived fixture (Playwright's browser), not as long as the test that happened to ask.
LIBRARY_THREADS = ("/playwright/",)
LIBRARY_OWNED: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()
# The thread each socket was made in: a connection a long-lived server's thread accepted
# belongs to that server.
MADE_BY: "weakref.WeakKeyDictionary[socket.socket, threading.Thread]" = weakref.WeakKeyDictionary()


def _caller() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if not f.filename.endswith(NOT_OURS)]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-4:][::-1])


def record_origins() -> None:
    """From now on, remember where every thread is started and every socket is made."""
    start, init = threading.Thread.start, socket.socket.__init__

    def recorded_start(self, *args, **kwargs):
        ORIGINS[self] = _caller()
        if any(part in f.filename for f in traceback.extract_stack() for part in LIBRARY_THREADS):
            LIBRARY_OWNED.add(self)
        return start(self, *args, **kwargs)

    def recorded_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        ORIGINS[self] = _caller()
        MADE_BY[self] = threading.current_thread()

    threading.Thread.start = recorded_start
    socket.socket.__init__ = recorded_init


def python_sockets() -> dict[str, socket.socket]:
    """Open sockets held by Python objects, by inode. Sockets a native library opens (the
    `livekit` SDK's WebRTC stack keeps UDP sockets and an HTTP pool for the life of the
    process) have no Python object and cannot be closed by our code: they are not counted."""
    found = {}
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.fileno() >= 0:
            try:
                found[os.readlink(f"/proc/self/fd/{obj.fileno()}")[len("socket:[") : -1]] = obj
            except OSError:
                continue
    return found


@dataclass(frozen=True)
class Snapshot:
    sockets: frozenset[str]  # inode numbers of this process's open sockets
    threads: frozenset[threading.Thread]


def open_socket_inodes() -> frozenset[str]:
    """Inodes of the sockets this process holds open (Linux /proc)."""
    inodes = set()
    fd_dir = Path("/proc/self/fd")
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return frozenset(inodes)


def describe_sockets(inodes: set[str]) -> dict[str, str]:
    """`inode -> "tcp 127.0.0.1:5000 -> 127.0.0.1:41234 (ESTABLISHED)"` where /proc knows it."""
    found: dict[str, str] = {}
    for kind in PROC_NET:
        path = Path("/proc/self/net") / kind
        try:
            lines = path.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            if kind == "unix":
                inode = columns[6] if len(columns) > 6 else ""
                if inode in inodes:
                    found[inode] = f"unix socket {columns[7] if len(columns) > 7 else ''}".strip()
                continue
            inode = columns[9]
            if inode in inodes:
                local, remote = _address(columns[1]), _address(columns[2])
                state = TCP_STATES.get(columns[3], columns[3]) if kind.startswith("tcp") else ""
                found[inode] = f"{kind} {local} -> {remote} {state}".strip()
    return {inode: found.get(inode, f"socket inode {inode}") for inode in inodes}


TCP_STATES = {"01": "(ESTABLISHED)", "06": "(TIME_WAIT)", "08": "(CLOSE_WAIT)", "0A": "(LISTEN)"}


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    if len(host) == 8:  # IPv4, little-endian
        octets = [str(int(host[i : i + 2], 16)) for i in range(6, -2, -2)]
        return f"{'.'.join(octets)}:{int(port, 16)}"
    return f"[{host}]:{int(port, 16)}"


def snapshot() -> Snapshot:
    return Snapshot(open_socket_inodes(), frozenset(threading.enumerate()))


@dataclass
class LeakCheck:
    """What a test opened and did not close. `owned_*` belong to long-lived fixtures."""

    owned_sockets: set[str] = field(default_factory=set)
    owned_threads: set[threading.Thread] = field(default_factory=set)

    def adopt(self, before: Snapshot) -> None:
        """Everything opened since `before` belongs to a long-lived fixture."""
        after = snapshot()
        self.owned_sockets |= after.sockets - before.sockets
        self.owned_threads |= after.threads - before.threads

    def leaks_since(self, before: Snapshot, grace: float = 5.0) -> list[str]:
        """Sockets and threads opened since `before` and still open, plus sockets the garbage
        collector found unclosed. Threads get `grace` seconds to end by themselves (a server
        thread that was told to stop, a timer that is about to fire)."""
        problems = collect_unclosed()
        threads = self._threads_still_running(before, grace)
        new = open_socket_inodes() - before.sockets - self.owned_sockets
        held = python_sockets() if new else {}  # a walk over every object: only when needed
        for inode, text in describe_sockets({i for i in new if i in held}).items():
            sock = held[inode]
            if MADE_BY.get(sock) in self.owned_threads:
                continue  # made by a long-lived server's thread: a connection it accepted
            problems.append(f"socket left open: {text}, made at {ORIGINS.get(sock, '?')}")
        problems += [f"thread left running: {_describe_thread(t)}" for t in threads]
        self.owned_sockets &= open_socket_inodes()  # forget what long-lived fixtures closed
        self.owned_threads = {t for t in self.owned_threads if t.is_alive()}
        return problems

    def _threads_still_running(self, before: Snapshot, grace: float) -> set[threading.Thread]:
        deadline = time.monotonic() + grace
        while True:
            threads = {
                thread
                for thread in threading.enumerate()
                # A native thread that called into Python: not ours to start or join.
                if thread.is_alive() and not isinstance(thread, threading._DummyThread)
            }
            threads -= before.threads | self.owned_threads | set(LIBRARY_OWNED)
            if not threads or time.monotonic() > deadline:
                return threads
            next(iter(threads)).join(0.05)


def collect_unclosed() -> list[str]:
    """Run the garbage collector and return what it found unclosed (ResourceWarning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    problems = []
    for warning in caught:
        if not issubclass(warning.category, ResourceWarning):
            continue
        where = ""
        if warning.source is not None and tracemalloc.is_tracing():
            traceback = tracemalloc.get_object_traceback(warning.source)
            if traceback is not None:
                where = "\n  opened at:\n    " + "\n    ".join(traceback.format())
        problems.append(f"{warning.message}{where}")
    return problems


def _describe_thread(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    what = getattr(target, "__qualname__", "") if target else type(thread).__qualname__
    return f"{thread.name} ({what}, daemon={thread.daemon}), started at {ORIGINS.get(thread, '?')}"
