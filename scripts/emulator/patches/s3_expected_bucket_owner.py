"""S3: ``x-amz-expected-bucket-owner`` is enforced, as on AWS.

What moto 5.2.5 gets wrong:
  * Bucket names are global and, by default, any account reaches any other account's bucket
    (``s3_allow_crossdomain_access``). The ``ExpectedBucketOwner`` parameter (header
    ``x-amz-expected-bucket-owner``), which AWS answers with 403 when the bucket belongs to another
    account, is ignored on every operation but one.

What the project does with it:
  * The promotion store (scripts/lib/store/) sends ``ExpectedBucketOwner`` = the env's account on every
    call, so a store bucket configured in another account is refused (STORE-ACCOUNT-MISMATCH) instead of
    silently holding one env's bundles and audit in another env's account. Without the patch, the
    emulator serves the foreign bucket.

What the patch does:
  * Before moto handles a bucket or object request that carries the header, compares it with the
    account that owns the bucket (``s3_backends.bucket_accounts``) and answers 403 ``AccessDenied`` when
    they differ. Requests without the header, and buckets that do not exist, are untouched.
"""
from __future__ import annotations

from typing import Any

HEADER = "x-amz-expected-bucket-owner"


def apply() -> None:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    class ExpectedOwnerMismatch(S3ClientError):
        code = 403

        def __init__(self) -> None:
            super().__init__("AccessDenied", "Access Denied")

    def check(self: S3Response, request: Any, full_url: str) -> None:
        expected = request.headers.get(HEADER)
        if not expected:
            return
        bucket = self.parse_bucket_name_from_url(request, full_url)
        owner = s3_backends.bucket_accounts.get(bucket) if bucket else None
        if owner is not None and owner[1] != expected:
            raise ExpectedOwnerMismatch()

    original_bucket = S3Response._bucket_response
    original_key = S3Response._key_response

    def _bucket_response(self: S3Response, request: Any, full_url: str) -> Any:
        check(self, request, full_url)
        return original_bucket(self, request, full_url)

    def _key_response(self: S3Response, request: Any, full_url: str) -> Any:
        check(self, request, full_url)
        return original_key(self, request, full_url)

    S3Response._bucket_response = _bucket_response  # type: ignore[method-assign]
    S3Response._key_response = _key_response  # type: ignore[method-assign]
