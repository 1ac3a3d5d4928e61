"""Test hook (never in ``all``): widens the window between a conditional write's check and its store.

What it is for:
  * The race the two atomic patches close (``s3_conditional_put_atomic``,
    ``dynamodb_conditional_write_atomic``) is real but short: racing writers rarely land inside it. This
    hook sleeps ``EMULATOR_TEST_WRITE_DELAY_MS`` (default 200) after moto checked a conditional write's
    condition and before it stores, so a test sees every racer inside the window: without the patches
    several of eight racing conditional writes succeed; with them exactly one does
    (__tests__/integration/emulator-atomic.test.ts).

What it does:
  * S3: ``PutObject`` with ``If-None-Match`` or ``If-Match`` sleeps in its checksum step, which moto runs
    after the precondition and before storing the object.
  * DynamoDB: a ``ConditionExpression`` sleeps before it is evaluated against the item moto read.
"""
from __future__ import annotations

import os
import time
from typing import Any


def apply() -> None:
    import moto.dynamodb.models.table as table
    from moto.s3.responses import S3Response

    delay = int(os.environ.get("EMULATOR_TEST_WRITE_DELAY_MS") or 200) / 1000

    checksum = S3Response._get_checksum

    def slow_checksum(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        if self.headers.get("If-None-Match") is not None or self.headers.get("If-Match") is not None:
            time.sleep(delay)
        return checksum(self, *args, **kwargs)

    S3Response._get_checksum = slow_checksum  # type: ignore[method-assign]

    parse = table.get_filter_expression

    def slow_filter_expression(expression: Any, *args: Any, **kwargs: Any) -> Any:
        op = parse(expression, *args, **kwargs)
        if not expression:
            return op
        evaluate = op.expr

        def slow_expr(item: Any) -> Any:
            time.sleep(delay)
            return evaluate(item)

        op.expr = slow_expr
        return op

    table.get_filter_expression = slow_filter_expression
