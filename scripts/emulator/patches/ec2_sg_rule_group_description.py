"""EC2: a security group rule that references another group keeps its description.

What moto 5.2.5 gets wrong:
  A rule authorized with ``UserIdGroupPairs`` (another security group as source or destination)
  stores its ``Description`` on the group pair, but ``SecurityGroupRule.description`` only reads the
  description of a CIDR range: ``DescribeSecurityGroupRules`` returns such a rule without
  ``Description``. AWS returns it.

What the AWS provider 5.100.0 does with it:
  ``aws_vpc_security_group_ingress_rule`` / ``_egress_rule`` with ``referenced_security_group_id``
  and a ``description`` read the rule back with ``DescribeSecurityGroupRules``: description null,
  so every plan sets it again (``description: null -> "..."``, perpetual diff). CIDR rules are not
  affected.

What the patch does:
  A rule's description is the one of its CIDR range (also where ``ModifySecurityGroupRules`` writes
  it) when it has one, otherwise the one of its referenced group pair.
"""
from __future__ import annotations


def apply() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self):  # noqa: ANN001, ANN202
        if "Description" in self.ip_range:
            return self.ip_range["Description"]
        return (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)
