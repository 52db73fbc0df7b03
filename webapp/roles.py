"""Who may do what: the four roles and the permissions each holds (the README's roles table).

One declaration for every place that decides — the web routes, the A2A methods, the
templates (which buttons to show) and the record — so that a route, a JSON-RPC method and a
page can never disagree about a role.

Need-to-know: cases hold material non-public information and STOR drafts (tipping-off rules).
Those who work cases (analysts, reviewers) and those who check the work (auditors, read-only)
read them. Administrators run the system — accounts, API tokens, metrics — and do not read
cases: an account that can create accounts should not also be an account that reads every
alert, or one stolen password gives both.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    CASE_READ = "case:read"        # see cases: pages, JSON, STOR drafts, A2A GetTask/ListTasks/SubscribeToTask
    CASE_WORK = "case:work"        # upload alerts, cancel runs, A2A SendMessage/CancelTask
    CASE_APPROVE = "case:approve"  # four-eyes approval of a disposition (the desk)
    AUDIT_READ = "audit:read"      # the audit trail in the UI and its export
    USERS_MANAGE = "users:manage"  # accounts and API tokens
    METRICS_READ = "metrics:read"  # /metrics (also open to METRICS_TOKEN)


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "analyst": frozenset({Permission.CASE_READ, Permission.CASE_WORK}),
    "reviewer": frozenset({Permission.CASE_READ, Permission.CASE_WORK, Permission.CASE_APPROVE}),
    "admin": frozenset({Permission.USERS_MANAGE, Permission.METRICS_READ}),
    "auditor": frozenset({Permission.CASE_READ, Permission.AUDIT_READ}),
}
ROLES = tuple(ROLE_PERMISSIONS)

ROLE_LABELS = {
    "analyst": "Analyst — uploads alerts and works cases",
    "reviewer": "Reviewer — works cases and approves dispositions",
    "admin": "Administrator — accounts, API tokens, metrics; does not read cases",
    "auditor": "Auditor — reads cases and the audit trail, changes nothing",
}


def allows(role: str | None, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role or "", frozenset())
