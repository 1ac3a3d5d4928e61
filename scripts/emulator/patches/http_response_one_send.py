"""HTTP: a response leaves in one send (status line, headers and the start of its body), not two.

What werkzeug 3.1.9 (moto's server) does:
  * Its request handler writes through an unbuffered socket writer: the status line and headers go out in
    one send, the body in a second send, and on a loaded machine (the server's threads waiting for the
    GIL) the second send can come milliseconds after the first. Every response also says
    ``Connection: close``.

What the AWS provider's SDK does with it (aws-sdk-go-v2, in terraform 1.11.4's S3 backend; reproduced
with a plain aws-sdk-go-v2 DynamoDB client too):
  * net/http's connection writer can end the write of a request with an error after every byte of it
    was sent (seen as ``WroteRequestInfo.Err = EOF`` in a client trace, a few times in a thousand
    requests under load), and it then closes the connection. When the answer's headers were read but
    its body had not arrived yet, the body read fails (``deserialization failed ... use of closed
    network connection``) and the SDK retries the request, which the server had already carried out.
  * For terraform's state lock this is fatal: the retried conditional ``PutItem`` finds the lock its
    first attempt wrote, and ``terraform apply`` stops with "Error acquiring the state lock"
    (ConditionalCheckFailedException) naming a lock of its own, created the same second, which stays in
    the lock table. Seen once in an integration run with four jest workers on two cores; reproduced by
    four loops of ``terraform apply`` against the emulator with the cores kept busy (a stuck lock within
    a minute), and by the plain client (1 to 3 retried writes in 2,400).

What the patch does:
  * Gives moto's request handler a 64 KiB buffered writer (``wbufsize``): werkzeug flushes after each
    body chunk, so the headers and a body of up to about 64 KiB leave in one send, and a client that read
    the headers has read the body with them. An interim ``100 Continue`` is still sent at once.
"""
from __future__ import annotations

from typing import Any

BUFFER_BYTES = 64 * 1024


def apply() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.wbufsize = BUFFER_BYTES

    expect_100 = MotoRequestHandler.handle_expect_100

    def handle_expect_100(self: Any) -> bool:
        # The client waits for this interim answer before it sends the body: it must not sit in the buffer.
        ok = expect_100(self)
        self.wfile.flush()
        return ok

    MotoRequestHandler.handle_expect_100 = handle_expect_100  # type: ignore[method-assign]
