"""S3 bucket policies: ``aws:SecureTransport`` is true, as on every AWS S3 endpoint the provider uses.

What moto 5.2.5 gets wrong:
  * ``FakeBucket.get_permission`` evaluates a bucket policy with no request context, and moto's
    condition evaluation only knows ``StringEquals``: any other operator (``Bool`` included) is
    treated as matching. The usual TLS-only statement
    (``Deny * when {"Bool": {"aws:SecureTransport": "false"}}``) then matches every request, and
    every object read or write of the bucket answers 403.

What the AWS provider 5.100.0 / terraform's S3 backend do with it:
  * The state bucket carries exactly that statement, so ``terraform init`` fails with
    ``HeadObject ... StatusCode: 403`` the moment the backend reads the state.

What the patch does:
  * Evaluates ``Bool`` conditions on ``aws:SecureTransport`` as true before moto sees the policy: the
    emulator stands in for AWS's HTTPS endpoints (terraform reaches it over loopback only). A
    statement that applies only to insecure transport is dropped; a ``"true"`` condition is
    satisfied and removed. Every other statement and condition goes to moto unchanged, so a Deny
    that does not depend on the transport still denies.
"""
from __future__ import annotations

from typing import Any


SECURE_TRANSPORT = "aws:SecureTransport"


def for_secure_transport(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as it applies to a request over TLS (``aws:SecureTransport`` = true)."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        condition = dict(statement.get("Condition") or {})
        applies = True
        for operator in ("Bool", "BoolIfExists"):
            block = dict(condition.get(operator) or {})
            if SECURE_TRANSPORT in block:
                wanted = block.pop(SECURE_TRANSPORT)
                values = wanted if isinstance(wanted, list) else [wanted]
                applies = applies and any(str(v).lower() == "true" for v in values)
                if block:
                    condition[operator] = block
                else:
                    condition.pop(operator)
        if applies:
            kept.append({**statement, "Condition": condition} if condition else {k: v for k, v in statement.items() if k != "Condition"})
    return {**policy, "Statement": kept}


def apply() -> None:
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = for_secure_transport(json.loads(self.policy.decode()))
        if not policy["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
