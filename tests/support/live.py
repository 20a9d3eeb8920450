"""Tiers 2 and 3: the live app and livekit-server a session fixture starts, as tests and
`bench/` reach them (over HTTP, or in a fresh app context)."""

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import Flask

from meetings.livekit_process import LiveKitServer, LiveKitServerConfig
from meetings.webhooks import apply as webhook_deriver
from tests.support.waiting import wait_until_drained


@dataclass
class Outbox:
    """Mails the app sent during a test, in order."""

    messages: list[EmailMessage]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def links(self, address: str) -> list[str]:
        """Every http(s) link in the mails to `address`."""
        return [
            link for m in self.to(address) for link in re.findall(r"https?://\S+", m.get_content())
        ]


@dataclass
class LiveStack:
    """A livekit-server and an app served over HTTP on loopback, wired to each other."""

    app: Flask
    base_url: str
    livekit: LiveKitServer

    @property
    def livekit_config(self) -> LiveKitServerConfig:
        return self.livekit.config

    def http(
        self, method: str, path: str, body: Any = None, headers: dict | None = None
    ) -> tuple[int, Any]:
        """A real HTTP request to the live app: (status, decoded JSON body)."""
        return http_json(self.base_url, method, path, body, headers)

    def mail_links(self, address: str) -> list[str]:
        """Links in the mails the live app sent to `address` (kept in memory), oldest first."""
        return Outbox(self.app.extensions.setdefault("mail_outbox", [])).links(address)

    def query(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` in a fresh app context of the live app (a DB query, a gateway call)."""
        with self.app.app_context():
            return fn()

    def wait_until_derived(self) -> None:
        """Wait until the app has derived every webhook it answered (a moment, as for
        someone who opens a page after the event)."""
        wait_until_drained(lambda: self.query(webhook_deriver.pending_count), "webhooks to derive")


def http_json(
    base_url: str, method: str, path: str, body: Any = None, headers: dict | None = None
) -> tuple[int, Any]:
    """A real HTTP request to an app served over HTTP: (status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def run_in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` in its own thread: async code and the gateway must not share a thread with
    Playwright's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()
