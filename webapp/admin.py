"""Accounts and API tokens, for administrators: the same commands as ``smarts-analyzer users``.

Plain forms (CSRF, no JavaScript needed). A new token is shown once, on the page that
created it, and is stored only as its hash. Every change goes through ``webapp.record.users``,
which audits it in the same transaction.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from webapp.auth.access import actor, forget_principals
from webapp.record import users
from webapp.record.users import AccountError
from webapp.roles import ROLE_LABELS, ROLES

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _db():
    return current_app.extensions["saa"].db


def _page(status: int = 200, **context):
    return render_template("admin/users.html", accounts=users.accounts(_db()), roles=ROLES, role_labels=ROLE_LABELS,
                           **context), status


@bp.get("/users", endpoint="users")
def users_page():
    return _page()


@bp.post("/users")
def add_user():
    username = (request.form.get("username") or "").strip()
    role = request.form.get("role") or ""
    service = request.form.get("kind") == "service"
    try:
        users.add(_db(), actor(), username, role, None if service else request.form.get("password") or "",
                  kind="service" if service else "person", display_name=(request.form.get("display_name") or "")[:200])
    except AccountError as exc:
        return _page(400, error=str(exc))
    return _page(message=f"Account {username} created ({role}).")


@bp.post("/users/<username>/active")
def set_active(username: str):
    active = request.form.get("active") == "1"
    try:
        users.set_active(_db(), actor(), username, active)
    except AccountError as exc:
        return _page(404, error=str(exc))
    forget_principals()
    return _page(message=f"Account {username} {'enabled' if active else 'disabled: its sessions and tokens stopped'}.")


@bp.post("/users/<username>/tokens")
def create_token(username: str):
    name = request.form.get("name") or ""
    try:
        token = users.create_token(_db(), actor(), username, name)
    except AccountError as exc:
        return _page(400, error=str(exc))
    return _page(new_token=token, message=f"Token {name!r} for {username} — copy it now, it is not shown again.")


@bp.post("/users/<username>/tokens/revoke")
def revoke_token(username: str):
    name = request.form.get("name") or ""
    try:
        users.revoke_token(_db(), actor(), username, name)
    except AccountError as exc:
        return _page(404, error=str(exc))
    forget_principals()
    return _page(message=f"Token {name!r} of {username} revoked.")
