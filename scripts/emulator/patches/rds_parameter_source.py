"""RDS: parameters set on a DB parameter group are returned with ``Source = user``.

What moto 5.2.5 gets wrong:
  ``DescribeDBParameters`` returns the parameters stored by ``CreateDBParameterGroup``/
  ``ModifyDBParameterGroup`` exactly as they were sent: ``ParameterName``, ``ParameterValue``,
  ``ApplyMethod``, and no ``Source``. The ``Source`` filter of the request is ignored. AWS marks every
  value a user set with ``Source = user`` (the engine's own values are ``engine-default`` or
  ``system``) and returns only the requested source.

What the AWS provider 5.100.0 does with it:
  ``aws_db_parameter_group`` with ``parameter`` blocks calls ``DescribeDBParameters`` without a
  ``Source`` and keeps only the parameters whose ``Source`` is ``user`` (or default values that match
  the config): it skips every parameter with no ``Source``, so it reads ``parameter = []`` and every
  plan adds all the configured parameters again (perpetual diff).

What the patch does:
  A parameter stored through ``ModifyDBParameterGroup`` (the provider creates the group, then
  modifies it with the parameters) gets ``Source = user`` unless the request said otherwise, and
  ``DescribeDBParameters`` with a ``Source`` returns only the parameters of that source (moto has no
  engine defaults, so ``engine-default``/``system`` return none).
"""
from __future__ import annotations


def apply() -> None:
    from moto.rds.models import DBParameterGroup
    from moto.rds.responses import RDSResponse

    orig_update = DBParameterGroup.update_parameters

    def update_parameters(self, new_parameters):  # noqa: ANN001, ANN202
        new_parameters = list(new_parameters)
        orig_update(self, new_parameters)
        for p in new_parameters:
            self.parameters[p["ParameterName"]].setdefault("Source", "user")

    DBParameterGroup.update_parameters = update_parameters

    orig_describe = RDSResponse.describe_db_parameters

    def describe_db_parameters(self):  # noqa: ANN001, ANN202
        result = orig_describe(self)
        source = self.params.get("Source")
        if source:
            params = result.result["Parameters"] if hasattr(result, "result") else None
            if params is not None:
                result.result["Parameters"] = [p for p in params if p.get("Source", "user") == source]
        return result

    RDSResponse.describe_db_parameters = describe_db_parameters
