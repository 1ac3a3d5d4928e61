"""AWS Budgets: resource tags, subscribers and UpdateBudget.

What moto 5.2.5 gets wrong:
  * ``ListTagsForResource``, ``TagResource`` and ``UntagResource`` are not implemented (moto answers
    HTTP 500 ``NotImplemented``), and ``CreateBudget``'s ``ResourceTags`` are dropped.
  * ``DescribeSubscribersForNotification``, ``CreateSubscriber``, ``DeleteSubscriber`` and
    ``UpdateBudget`` are not implemented either.

What the AWS provider 5.100.0 does with it:
  * ``aws_budgets_budget`` create succeeds, then the read lists the budget's tags (transparent
    tagging, ``default_tags`` included). The SDK retries a 500 as a transient error with backoff, and
    the provider keeps retrying, so the apply looks hung for more than 10 minutes.
  * The read also describes the subscribers of each notification; updates call ``UpdateBudget`` and
    the subscriber APIs.

What the patch does:
  * Stores tags per budget ARN (``arn:aws:budgets::<account>:budget/<name>``): from ``CreateBudget``
    ``ResourceTags`` and ``TagResource``; ``UntagResource`` removes keys; ``ListTagsForResource``
    answers ``{"ResourceTags": [...]}``; an ARN of no budget answers ``NotFoundException``.
    ``DeleteBudget`` drops the budget's tags.
  * Implements ``DescribeSubscribersForNotification``, ``CreateSubscriber``, ``DeleteSubscriber``
    (notifications matched on type, operator, threshold and threshold type) and ``UpdateBudget``.
"""
from __future__ import annotations

import json
import re
from typing import Any

_ARN = re.compile(r"^arn:[\w-]+:budgets::(\d{12}):budget/(.+)$")


def _same_notification(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def key(n: dict[str, Any]) -> tuple:
        try:
            threshold = float(n.get("Threshold", 0))
        except (TypeError, ValueError):
            threshold = n.get("Threshold")
        return (n.get("NotificationType"), n.get("ComparisonOperator"), threshold,
                n.get("ThresholdType") or "PERCENTAGE")
    return key(a) == key(b)


def apply() -> None:
    from moto.budgets import models as m
    from moto.budgets import responses as r
    from moto.budgets.exceptions import NotFoundException

    Backend = m.BudgetsBackend
    Response = r.BudgetsResponse

    def _tags(self) -> dict[str, dict[str, str]]:  # per-backend store: arn -> {key: value}
        if not hasattr(self, "_project_tags"):
            self._project_tags = {}
        return self._project_tags

    def _budget_for_arn(self, arn: str):  # noqa: ANN202
        match = _ARN.match(arn or "")
        if not match or match.group(2) not in self.budgets[match.group(1)]:
            raise NotFoundException(f"Unable to find resource: {arn} - the budget doesn't exist.")
        return self.budgets[match.group(1)][match.group(2)]

    def _notification(self, account_id: str, budget_name: str, notification: dict[str, Any]):  # noqa: ANN202
        if budget_name not in self.budgets[account_id]:
            raise NotFoundException(f"Unable to get budget: {budget_name} - the budget doesn't exist.")
        for n in self.budgets[account_id][budget_name].notifications:
            if _same_notification(n.details, notification or {}):
                return n
        raise NotFoundException("Unable to find notification - the notification doesn't exist.")

    Backend._project_tag_store = _tags
    Backend._project_budget_for_arn = _budget_for_arn
    Backend._project_notification = _notification

    orig_delete = Backend.delete_budget

    def delete_budget(self, account_id: str, budget_name: str) -> None:
        orig_delete(self, account_id, budget_name)
        self._project_tag_store().pop(f"arn:aws:budgets::{account_id}:budget/{budget_name}", None)

    Backend.delete_budget = delete_budget

    # ---- responses (moto dispatches an action to the method of the same snake_case name)
    orig_create = Response.create_budget

    def create_budget(self) -> str:
        out = orig_create(self)
        tags = self._get_param("ResourceTags") or []
        if tags:
            account_id = self._get_param("AccountId")
            name = (self._get_param("Budget") or {}).get("BudgetName")
            store = self.backend._project_tag_store()
            store.setdefault(f"arn:aws:budgets::{account_id}:budget/{name}", {}).update(
                {t["Key"]: t.get("Value", "") for t in tags})
        return out

    def list_tags_for_resource(self) -> str:
        arn = self._get_param("ResourceARN")
        self.backend._project_budget_for_arn(arn)
        tags = self.backend._project_tag_store().get(arn, {})
        return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def tag_resource(self) -> str:
        arn = self._get_param("ResourceARN")
        self.backend._project_budget_for_arn(arn)
        store = self.backend._project_tag_store().setdefault(arn, {})
        store.update({t["Key"]: t.get("Value", "") for t in self._get_param("ResourceTags") or []})
        return json.dumps({})

    def untag_resource(self) -> str:
        arn = self._get_param("ResourceARN")
        self.backend._project_budget_for_arn(arn)
        store = self.backend._project_tag_store().setdefault(arn, {})
        for key in self._get_param("ResourceTagKeys") or []:
            store.pop(key, None)
        return json.dumps({})

    def describe_subscribers_for_notification(self) -> str:
        n = self.backend._project_notification(self._get_param("AccountId"), self._get_param("BudgetName"),
                                               self._get_param("Notification"))
        return json.dumps({"Subscribers": list(n.subscribers or []), "NextToken": None})

    def create_subscriber(self) -> str:
        n = self.backend._project_notification(self._get_param("AccountId"), self._get_param("BudgetName"),
                                               self._get_param("Notification"))
        sub = self._get_param("Subscriber")
        n.subscribers = [s for s in (n.subscribers or []) if s != sub] + [sub]
        return json.dumps({})

    def delete_subscriber(self) -> str:
        n = self.backend._project_notification(self._get_param("AccountId"), self._get_param("BudgetName"),
                                               self._get_param("Notification"))
        sub = self._get_param("Subscriber")
        n.subscribers = [s for s in (n.subscribers or []) if s != sub]
        return json.dumps({})

    def update_budget(self) -> str:
        account_id = self._get_param("AccountId")
        new = self._get_param("NewBudget") or {}
        name = new.get("BudgetName")
        if name not in self.backend.budgets[account_id]:
            raise NotFoundException(f"Unable to update budget: {name} - the budget doesn't exist.")
        budget = self.backend.budgets[account_id][name]
        keep = {k: v for k, v in budget.budget.items() if k in ("TimePeriod", "CalculatedSpend")}
        budget.budget = {**keep, **new}
        budget.budget["LastUpdatedTime"] = m.unix_time()
        return json.dumps({})

    Response.create_budget = create_budget
    Response.list_tags_for_resource = list_tags_for_resource
    Response.tag_resource = tag_resource
    Response.untag_resource = untag_resource
    Response.describe_subscribers_for_notification = describe_subscribers_for_notification
    Response.create_subscriber = create_subscriber
    Response.delete_subscriber = delete_subscriber
    Response.update_budget = update_budget
