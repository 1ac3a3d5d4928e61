"""S3: a conditional ``PutObject`` (``If-None-Match: *``, ``If-Match``) is atomic, as on AWS.

What moto 5.2.5 gets wrong:
  * ``S3Response.put_object`` checks the condition (does the key exist? is its ETag the one given?) and
    then stores the object as two separate steps, on a threaded server: two requests racing for the
    same key can both pass the check, and both succeed.

What the project does with it:
  * The promotion store's exactly-once guarantees rest on that write: the applied record
    (BUNDLE-ALREADY-APPLIED for the second of two concurrent applies) and the audit log's next sequence
    number (one winner; the loser retries on the new head). Without the patch both racers can win.

What the patch does:
  * Serializes conditional object writes (requests that carry ``If-None-Match`` or ``If-Match``) behind
    one lock, so check and store happen as one step. Unconditional writes are untouched.
"""
from __future__ import annotations

import threading
from typing import Any


def apply() -> None:
    from moto.s3.responses import S3Response

    lock = threading.Lock()
    original = S3Response.put_object

    def put_object(self: S3Response) -> Any:
        if self.headers.get("If-None-Match") is None and self.headers.get("If-Match") is None:
            return original(self)
        with lock:
            return original(self)

    S3Response.put_object = put_object  # type: ignore[method-assign]
