"""RDS: an AWS-managed master password (``ManageMasterUserPassword``) is a generated secret.

What moto 5.2.5 gets wrong:
  ``CreateDBInstance`` / ``ModifyDBInstance`` with ``ManageMasterUserPassword = true`` create the
  ``rds!db-<uuid>`` secret in Secrets Manager as AWS does, but its value is a constant,
  ``{"username": "admin", "password": "P@55w0rd!"}``, whatever the instance's master user name: every
  database of every account gets the same password, and the user name in the secret is not the
  instance's.

What the AWS provider 5.100.0 does with it:
  Nothing wrong on the terraform side (it reads only ``MasterUserSecret``'s ARN, status and KMS key), but
  the project's tests read the value back from Secrets Manager to prove it is in no plan file or state:
  a constant shared by all databases proves nothing, and a consumer reading ``username`` gets "admin".

What the patch does:
  The secret's value is ``{"username": <the instance's or cluster's master user name>, "password": <32
  characters drawn with the ``secrets`` module from letters, digits and RDS-safe punctuation>}``, new
  for every secret (on create, on a switch to managed, on ``RotateMasterUserPassword``).
"""
from __future__ import annotations

import json
import secrets
import string

# Printable ASCII RDS accepts in a master password (no / @ " or space).
_ALPHABET = string.ascii_letters + string.digits + "!#$%&*()-_=+[]{}<>:?"


def _password(length: int = 32) -> str:
    while True:
        p = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.islower() for c in p) and any(c.isupper() for c in p) and any(c.isdigit() for c in p):
            return p


def apply() -> None:
    from moto.rds.models import MasterUserSecret

    def _generate_secret_string(self):  # noqa: ANN001, ANN202
        user = getattr(self.resource, "master_username", None) or "admin"
        return json.dumps({"username": user, "password": _password()})

    MasterUserSecret._generate_secret_string = _generate_secret_string
