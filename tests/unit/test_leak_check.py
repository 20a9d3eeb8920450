"""The leak check names what a test left open, in that test."""

import socket
import threading
from pathlib import Path

from tests.support.leaks import LeakCheck, snapshot

PROJECT_DIR = Path(__file__).resolve().parents[2]


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_socket_left_open_is_named_with_its_address():
    check = LeakCheck()
    before = snapshot()
    leaked = listening_socket()
    try:
        port = leaked.getsockname()[1]
        problems = check.leaks_since(before, grace=0)
        assert any(f"127.0.0.1:{port}" in problem for problem in problems), problems
    finally:
        leaked.close()
    assert check.leaks_since(before, grace=0) == []


def forget_a_socket_in_a_cycle() -> int:
    """Open a socket and drop it inside a reference cycle: only the garbage collector finds
    it, whenever it runs, which is how the session-end failure happened."""
    sock = listening_socket()
    holder: dict = {"socket": sock}
    holder["self"] = holder
    return sock.getsockname()[1]


def test_an_unclosed_socket_the_garbage_collector_finds_is_reported():
    check = LeakCheck()
    before = snapshot()
    port = forget_a_socket_in_a_cycle()
    problems = check.leaks_since(before, grace=0)
    assert any("unclosed" in problem and f"{port}" in problem for problem in problems), problems


def test_a_thread_left_running_is_named():
    check = LeakCheck()
    before = snapshot()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="forgotten-poller", daemon=True)
    thread.start()
    try:
        problems = check.leaks_since(before, grace=0.2)
        assert any("forgotten-poller" in problem for problem in problems), problems
    finally:
        stop.set()
        thread.join()


def test_what_a_long_lived_fixture_opens_is_not_a_leak():
    check = LeakCheck()
    before_fixture = snapshot()
    server = listening_socket()
    check.adopt(before_fixture)
    try:
        assert check.leaks_since(snapshot(), grace=0) == []
        assert check.leaks_since(before_fixture, grace=0) == []
    finally:
        server.close()


def test_the_leaking_test_fails_and_the_others_pass(pytester, monkeypatch):
    """In a real run: the leak fails its own test in teardown; the session goes on."""
    pytester.makepyfile(
        test_sample="""
        import socket
        KEPT = []

        def test_leaks():
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            KEPT.append(sock)

        def test_clean():
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_DIR))
    monkeypatch.setenv("LEAK_CHECK", "1")
    result = pytester.runpytest_subprocess(
        "-p", "tests.support.leak_check", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_leaks*", "*socket left open: tcp 127.0.0.1:*"]
    )
