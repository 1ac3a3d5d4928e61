"""The project's in-memory patches to moto 5.2.5, applied by launcher.py before the server starts.

Each patch is a module here with one ``apply()`` function whose docstring says what moto gets wrong,
what the AWS provider 5.100.0 does with it, and what the patch does. Order matters only where noted.
"""
from __future__ import annotations

import importlib
from collections import OrderedDict
from typing import Callable

# name -> module; applied in this order
NAMES = [
    "elasticache_members",
    "budgets_tags",
    "route53_private_zone",
    "cloudfront_viewer_certificate",
    "ec2_launch_template_tags",
    "s3_secure_transport",
    "autoscaling_policy_enabled",
    "cloudfront_cache_policy_behavior",
    "rds_parameter_source",
    "ec2_sg_rule_group_description",
    "rds_managed_master_password",
    # after s3_secure_transport: wraps the bucket-policy evaluation that patch installs
    "s3_policy_request_context",
    "s3_expected_bucket_owner",
    "s3_conditional_put_atomic",
    "dynamodb_conditional_write_atomic",
    "http_response_one_send",
]

# Test hooks: modules here like the patches, never part of "all"; a test names them explicitly.
TEST_HOOKS = [
    "test_slow_conditional_writes",
    "test_slow_response_body",
]


def _load(names: list[str]) -> "OrderedDict[str, Callable[[], None]]":
    reg: "OrderedDict[str, Callable[[], None]]" = OrderedDict()
    for name in names:
        mod = importlib.import_module(f"patches.{name}")
        fn = mod.apply
        fn.__doc__ = mod.__doc__ or fn.__doc__
        reg[name] = fn
    return reg


REGISTRY = _load(NAMES)
HOOKS = _load(TEST_HOOKS)


def apply(selection: str = "all") -> list[str]:
    """Apply the selected patches (``all``, ``none`` or ``a,b``, where a list may also name test hooks);
    returns the names applied."""
    sel = (selection or "all").strip()
    if sel == "none":
        return []
    names = list(REGISTRY) if sel == "all" else [s.strip() for s in sel.split(",") if s.strip()]
    unknown = [n for n in names if n not in REGISTRY and n not in HOOKS]
    if unknown:
        raise ValueError(f"unknown patch(es) {unknown}; known: {list(REGISTRY)} (test hooks: {list(HOOKS)})")
    for n in names:
        (REGISTRY.get(n) or HOOKS[n])()
    return names
