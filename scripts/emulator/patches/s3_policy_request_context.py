"""S3 bucket policies: statements conditioned on the caller's identity or request headers are not enforced.

What moto 5.2.5 gets wrong:
  * ``FakeBucket.get_permission`` evaluates a bucket policy with no request context (no principal, no
    headers), and moto's condition evaluation only knows ``StringEquals``: any other operator is treated
    as matching. The promotion store's policy denies everyone but the delivery roles
    (``ArnNotLike aws:PrincipalArn``) and writes with a foreign KMS key
    (``StringNotEqualsIfExists s3:x-amz-server-side-encryption-aws-kms-key-id``): on moto those Deny
    statements match every request, and every read and write of the store answers 403.

What the AWS provider 5.100.0 / the project do with it:
  * ``terraform apply`` of the bootstrap stack writes the policy; the next read of the bucket
    (the provider's refresh, every store operation) is refused.

What the patch does:
  * Evaluates the bucket policy without the statements whose conditions name ``aws:PrincipalArn``,
    ``aws:PrincipalAccount`` or an ``s3:x-amz-server-side-encryption*`` key (moto cannot know them), then
    evaluates it as moto does (with ``s3_secure_transport``'s transform when that patch is loaded). Every other
    statement still applies. On the emulator the store relies on what moto does enforce: Object Lock
    retention, conditional writes, the expected bucket owner (``s3_expected_bucket_owner``).
"""
from __future__ import annotations

import json
from typing import Any

CONTEXT_KEYS = ("aws:principalarn", "aws:principalaccount", "s3:x-amz-server-side-encryption")


def needs_request_context(statement: dict[str, Any]) -> bool:
    for block in (statement.get("Condition") or {}).values():
        for key in (block or {}):
            if any(str(key).lower().startswith(k) for k in CONTEXT_KEYS):
                return True
    return False


def without_request_context(policy: dict[str, Any]) -> dict[str, Any]:
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {**policy, "Statement": [s for s in statements if not needs_request_context(s)]}


def apply() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    previous = FakeBucket.get_permission
    # With s3_secure_transport loaded (it replaces the same method), its transform applies too.
    secure = getattr(previous, "__module__", "") == "patches.s3_secure_transport"

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        policy = without_request_context(json.loads(raw))
        if secure:
            from patches.s3_secure_transport import for_secure_transport

            policy = for_secure_transport(policy)
        if not policy["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
