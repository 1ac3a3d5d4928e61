"""CloudFront: a cache behavior that uses a cache policy has no invented ``ForwardedValues``.

What moto 5.2.5 gets wrong:
  ``DefaultCacheBehavior`` (and every ``CacheBehaviors`` item) always gets a ``ForwardedValues``
  (``QueryString = false``, ``Cookies.Forward = none``), even when the request has none because the
  behavior names a ``CachePolicyId``. AWS returns no ``ForwardedValues`` then: the legacy cache
  settings and a cache policy are mutually exclusive.

What the AWS provider 5.100.0 does with it:
  ``aws_cloudfront_distribution`` whose ``default_cache_behavior`` sets ``cache_policy_id`` (and
  ``origin_request_policy_id``) and no ``forwarded_values`` reads a ``forwarded_values`` block back:
  every plan shows an in-place update of ``default_cache_behavior`` that removes it (perpetual
  diff). The same happens to ``ordered_cache_behavior``.

What the patch does:
  A cache behavior created or updated without ``ForwardedValues`` keeps none; one that sends
  ``ForwardedValues`` is unchanged.
"""
from __future__ import annotations


def apply() -> None:
    from moto.cloudfront import models as m

    orig_init = m.DefaultCacheBehaviour.__init__

    def __init__(self, config):  # noqa: ANN001, ANN202
        orig_init(self, config)
        if not config.get("ForwardedValues"):
            self.forwarded_values = None

    # CacheBehaviour (ordered behaviors) calls DefaultCacheBehaviour.__init__ through super().
    m.DefaultCacheBehaviour.__init__ = __init__
