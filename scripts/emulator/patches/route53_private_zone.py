"""Route 53: a hosted zone created with a VPC is private, as in AWS.

What moto 5.2.5 gets wrong:
  ``CreateHostedZone`` only treats a zone as private when ``HostedZoneConfig.PrivateZone`` is true;
  the ``VPC`` parameter is ignored otherwise, so the zone is public (it gets a delegation set) and
  ``GetHostedZone`` returns no ``VPCs``. AWS makes every zone created with a ``VPC`` private.

What the AWS provider 5.100.0 does with it:
  ``aws_route53_zone`` with a ``vpc`` block sends ``VPC`` but no ``PrivateZone`` flag, then reads the
  VPC associations back from ``GetHostedZone``: none, so every plan wants to add the ``vpc`` block
  again (perpetual diff), and the zone is public in the emulator.

What the patch does:
  ``CreateHostedZone`` with ``VPC.VPCId`` (or ``VPC.VPCRegion``) is handled as
  ``HostedZoneConfig.PrivateZone = true``.
"""
from __future__ import annotations


def apply() -> None:
    from moto.route53.responses import Route53

    orig = Route53.create_hosted_zone

    def create_hosted_zone(self):  # noqa: ANN202
        if self._get_param("VPC.VPCId") or self._get_param("VPC.VPCRegion"):
            get_bool = self._get_bool_param

            def _get_bool_param(name, if_none=None):  # noqa: ANN001, ANN202
                if name == "HostedZoneConfig.PrivateZone":
                    return True
                return get_bool(name, if_none)

            self._get_bool_param = _get_bool_param
            try:
                return orig(self)
            finally:
                del self._get_bool_param
        return orig(self)

    Route53.create_hosted_zone = create_hosted_zone
