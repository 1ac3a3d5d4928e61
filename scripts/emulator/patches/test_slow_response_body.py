"""Test hook (never in ``all``): holds every response for a while after its headers were written.

What it is for:
  * The gap ``http_response_one_send`` closes (the headers out, the body not yet) is real but short:
    a client rarely reads inside it. This hook sleeps ``EMULATOR_TEST_BODY_DELAY_MS`` (default 300)
    after the request handler wrote a response's status line and headers and before it writes the body,
    so a test sees it every time: without the patch the client's first read holds the headers alone and
    the body follows that much later; with it the hook's pause comes before anything was sent, and the
    first read holds headers and body (__tests__/integration/emulator-one-send.test.ts).
"""
from __future__ import annotations

import os
import time
from typing import Any


def apply() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    delay = int(os.environ.get("EMULATOR_TEST_BODY_DELAY_MS") or 300) / 1000
    flush_headers = MotoRequestHandler.flush_headers

    def slow_flush_headers(self: Any) -> None:
        flush_headers(self)
        time.sleep(delay)

    MotoRequestHandler.flush_headers = slow_flush_headers  # type: ignore[method-assign]
