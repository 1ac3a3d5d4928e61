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
    body chunk, so the headers and a body of up to about 64 KiB leave in one send. A client then reads
    headers and body together when the answer fits one of its reads (net/http reads 4 KiB at a time; the
    lock table's answers are a few hundred bytes); larger answers (a state object) still arrive in parts.
  * Flushes before the application runs (``make_environ``, which werkzeug calls once it has answered
    ``Expect: 100-continue``): an interim ``100 Continue`` (http.server's for HTTP/1.1, werkzeug's own for
    any version) leaves before the server waits for the body, as without the patch.
  * A client gone before the buffer was flushed is ignored when the handler finishes, as werkzeug ignores
    a dropped connection (no traceback in the emulator's log).
  * The last chunk of a chunked answer now leaves after werkzeug's drain of the request (about 10 ms);
    moto's answers carry a Content-Length.
"""
from __future__ import annotations

from typing import Any

BUFFER_BYTES = 64 * 1024


def apply() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.wbufsize = BUFFER_BYTES

    make_environ = MotoRequestHandler.make_environ

    def flushed_make_environ(self: Any) -> Any:
        # The client may wait for an interim answer before it sends the body: it must not sit in the buffer.
        self.wfile.flush()
        return make_environ(self)

    MotoRequestHandler.make_environ = flushed_make_environ  # type: ignore[method-assign]

    finish = MotoRequestHandler.finish

    def quiet_finish(self: Any) -> None:
        try:
            finish(self)
        except OSError:  # the client is gone: what was buffered for it cannot be sent
            pass

    MotoRequestHandler.finish = quiet_finish  # type: ignore[method-assign]
