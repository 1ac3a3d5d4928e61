"""Auto Scaling: a scaling policy is ``Enabled`` and has no empty ``PredictiveScalingConfiguration``.

What moto 5.2.5 gets wrong:
  * ``PutScalingPolicy`` ignores ``Enabled`` and ``DescribePolicies`` never returns it; AWS defaults
    it to true and always returns it.
  * Every policy stores ``PredictiveScalingConfiguration = {}`` when the request has none (a target
    tracking or step policy), and ``DescribePolicies`` returns that empty structure; AWS returns no
    ``PredictiveScalingConfiguration`` for a policy that is not ``PredictiveScaling``.

What the AWS provider 5.100.0 does with it:
  ``aws_autoscaling_policy`` reads ``enabled = false`` (absent) while the config has the default
  ``true``, and flattens the empty structure into one ``predictive_scaling_configuration`` block
  with empty fields the config does not have: every plan shows ``enabled: false -> true`` and
  removes that block (perpetual diff).

What the patch does:
  A policy keeps the requested ``Enabled`` (true when the request has none) and returns it; an empty
  ``PredictiveScalingConfiguration`` is stored as absent.
"""
from __future__ import annotations


def apply() -> None:
    from moto.autoscaling.models import FakeScalingPolicy
    from moto.autoscaling.responses import AutoScalingResponse

    orig_init = FakeScalingPolicy.__init__

    def __init__(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        orig_init(self, *args, **kwargs)
        self.enabled = True
        if not self.predictive_scaling_configuration:
            self.predictive_scaling_configuration = None

    FakeScalingPolicy.__init__ = __init__

    orig_put = AutoScalingResponse.put_scaling_policy

    def put_scaling_policy(self):  # noqa: ANN001, ANN202
        result = orig_put(self)
        enabled = self._get_bool_param("Enabled")
        policy = self.autoscaling_backend.policies.get(self._get_param("PolicyName"))
        if policy is not None and enabled is not None:
            policy.enabled = enabled
        return result

    AutoScalingResponse.put_scaling_policy = put_scaling_policy
