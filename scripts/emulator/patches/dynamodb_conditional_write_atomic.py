"""DynamoDB: a conditional item write (``ConditionExpression``) is atomic, as on AWS.

What moto 5.2.5 gets wrong:
  * ``Table.put_item`` (and ``update_item``, ``delete_item``) reads the current item, evaluates the
    condition and then stores the new item as separate steps, on a threaded server: two requests racing
    for the same key can both pass ``attribute_not_exists(LockID)`` and both succeed.

What the project does with it:
  * The promotion store's conditional items in an env's lock table rest on that write: the env's lease
    (``promote-lock/<env>``: one plan-or-apply per env across machines) and the ephemeral envs' CIDR
    claims (``promote-cidr/<cidr>``: two machines never hand out one CIDR). Without the patch two
    claimers racing for one CIDR can both win it: seen once in __tests__/integration/ephemeral.test.ts
    (13 concurrent claims from two processes, on a loaded machine: 12 distinct CIDRs), whose claim
    algorithm gives 13 distinct ones over atomic conditional puts in every interleaving tried
    (__tests__/unit/ephemeral-store-registry.test.ts) and duplicates as soon as the put is made
    check-then-store; it did not show in isolated probes (hundreds of rounds of 8-32 racing puts), the
    window being short.

What the patch does:
  * Serializes the backend's item writes (``put_item``, ``update_item``, ``delete_item``,
    ``transact_write_items``) behind one lock, so check and store happen as one step. Reads are untouched.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def serialized(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    for name in WRITES:
        setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
