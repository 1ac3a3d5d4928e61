"""CloudFront: no ``SSLSupportMethod`` invented for the default certificate.

What moto 5.2.5 gets wrong:
  ``ViewerCertificate.SSLSupportMethod`` defaults to ``sni-only`` even when the distribution uses
  ``CloudFrontDefaultCertificate = true`` and no ACM/IAM certificate; AWS returns no
  ``SSLSupportMethod`` then.

What the AWS provider 5.100.0 does with it:
  ``aws_cloudfront_distribution`` with ``viewer_certificate { cloudfront_default_certificate = true }``
  reads ``ssl_support_method = "sni-only"`` back while the config has none: every plan shows an
  in-place update of ``viewer_certificate`` (perpetual diff).

What the patch does:
  ``SSLSupportMethod`` keeps the requested value; without one it is ``sni-only`` only when an ACM or
  IAM certificate is set, otherwise absent.
"""
from __future__ import annotations


def apply() -> None:
    from moto.cloudfront import models as m

    orig_init = m.ViewerCertificate.__init__

    def __init__(self, config):  # noqa: ANN001, ANN202
        orig_init(self, config)
        if not config.get("SSLSupportMethod") and not (config.get("ACMCertificateArn") or config.get("IAMCertificateId")):
            self.ssl_support_method = None

    m.ViewerCertificate.__init__ = __init__
