"""Accounts, roles and API tokens: every change to them is audited in its own transaction.

Passwords are hashed with Argon2id (argon2-cffi) — off the gevent hub, since one hash costs
tens of milliseconds of CPU — and verified outside any database transaction. Failed sign-ins
count per account; after LOGIN_MAX_FAILURES the account is locked for LOGIN_LOCKOUT_SECONDS.
API tokens are shown once and stored as SHA-256: they are long random strings, so a fast hash
suffices and a token can be looked up by its hash on every request.

Callers get :class:`Principal` (plain data) back; it quacks like a Flask-Login user.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from webapp.record import Database, audit, cpu_bound, off_hub
from webapp.record.audit import Actor
from webapp.record.models import ApiToken, User
from webapp.roles import ROLES

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
TOKEN_PREFIX = "saa_"
MIN_PASSWORD = 12
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user or token command refused, with the reason to show."""


@dataclass(frozen=True)
class Principal:
    """Someone signed in (browser session) or presenting a bearer token."""

    id: int | None
    username: str
    role: str
    kind: str = "person"          # person | service | static (A2A_AUTH_TOKEN, not in the database)
    session_key: str = ""
    display_name: str = ""
    via: str = "session"          # session | token

    # Flask-Login's user interface, without importing it here.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"


@dataclass(frozen=True)
class Account:
    """One row of the accounts list."""

    id: int
    username: str
    role: str
    kind: str
    display_name: str
    active: bool
    sso: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    tokens: tuple[TokenInfo, ...] = ()


@dataclass(frozen=True)
class TokenInfo:
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(user: User, via: str = "session") -> Principal:
    return Principal(user.id, user.username, user.role, user.kind, user.session_key, user.display_name, via)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


def hash_password(password: str) -> str:
    return cpu_bound(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return stored is not None and _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """What to verify against when the account does not exist, so that "no such user" and
    "wrong password" take the same time."""
    return _hasher.hash(secrets.token_hex(16))


def verify_password(stored: str | None, password: str) -> bool:
    return cpu_bound(_verify, stored or _dummy_hash(), password) and stored is not None


# ----------------------------------------------------------------------------- accounts

def add(db: Database, actor: Actor, username: str, role: str, password: str | None = None, *,
        kind: str = "person", display_name: str = "") -> Principal:
    """A local account (person with a password, or a service account that only has tokens)."""
    _check_role(role)
    if not USERNAME.match(username):
        raise AccountError("A username is 1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or "
                           "digit.")
    if kind == "person":
        if password is None:
            raise AccountError("A person's account needs a password (or use a service account).")
        check_password(password)
    hashed = hash_password(password) if password is not None else None
    return _insert(db, actor, username, role, hashed, kind, display_name)


@off_hub
def _insert(db: Database, actor: Actor, username: str, role: str, hashed: str | None, kind: str,
            display_name: str) -> Principal:
    with db.transaction() as s:
        if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
            raise AccountError(f"There is already an account called {username!r}.")
        user = User(username=username, role=role, kind=kind, display_name=display_name, password_hash=hashed,
                    active=True, session_key=secrets.token_hex(16), failed_logins=0, created_at=_now())
        s.add(user)
        s.flush()
        audit.append(s, actor, "user.add", username=username, role=role, kind=kind)
        return _principal(user)


@off_hub
def count(db: Database) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


@off_hub
def accounts(db: Database) -> list[Account]:
    with db.reading() as s:
        users = list(s.scalars(select(User).order_by(User.username)))
        tokens: dict[int, list[TokenInfo]] = {}
        for token in s.scalars(select(ApiToken).order_by(ApiToken.created_at)):
            tokens.setdefault(token.user_id, []).append(
                TokenInfo(token.name, token.prefix, _aware(token.created_at), _aware(token.revoked_at)))
        return [Account(u.id, u.username, u.role, u.kind, u.display_name, u.active, u.oidc_subject is not None,
                        _aware(u.locked_until), _aware(u.created_at), _aware(u.last_login_at),
                        tuple(tokens.get(u.id, ()))) for u in users]


@off_hub
def who_work_cases(db: Database) -> list[str]:
    """The active people whose role works cases: whom a case can be handed to."""
    from webapp.record.lifecycle import ACTIONS
    from webapp.roles import allows

    roles = [role for role in ROLES if allows(role, ACTIONS["assign"].permission)]
    with db.reading() as s:
        return list(s.scalars(select(User.username).where(User.active.is_(True), User.kind == "person",
                                                          User.role.in_(roles)).order_by(User.username)))


def _user(s, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username).with_for_update())
    if user is None:
        raise AccountError(f"There is no account called {username!r}.")
    return user


@off_hub
def set_active(db: Database, actor: Actor, username: str, active: bool) -> None:
    """Disable (every session and token stops working at once) or enable an account."""
    with db.transaction() as s:
        user = _user(s, username)
        user.active = active
        user.session_key = secrets.token_hex(16)  # ends every browser session it had
        user.failed_logins, user.locked_until = 0, None
        audit.append(s, actor, "user.enable" if active else "user.disable", username=username)


@off_hub
def create_token(db: Database, actor: Actor, username: str, name: str) -> str:
    """A new API token for ``username``; the token itself is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("A token needs a name of 1–100 characters (what it is for).")
    with db.transaction() as s:
        user = _user(s, username)
        if not user.active:
            raise AccountError(f"The account {username!r} is disabled.")
        clash = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == name,
                                          ApiToken.revoked_at.is_(None))
        if s.scalar(clash) is not None:
            raise AccountError(f"{username!r} already has a token called {name!r}; revoke it first.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        s.add(ApiToken(user_id=user.id, name=name, token_hash=token_digest(token), prefix=token[:12],
                       created_at=_now()))
        audit.append(s, actor, "token.create", username=username, name=name, prefix=token[:12])
        return token


@off_hub
def revoke_token(db: Database, actor: Actor, username: str, name: str) -> int:
    """Revoke ``username``'s live tokens called ``name``; returns how many."""
    with db.transaction() as s:
        user = _user(s, username)
        revoked = s.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name,
                                                   ApiToken.revoked_at.is_(None)).values(revoked_at=_now()))
        if not revoked.rowcount:
            raise AccountError(f"{username!r} has no live token called {name!r}.")
        audit.append(s, actor, "token.revoke", username=username, name=name)
        return revoked.rowcount


# ----------------------------------------------------------------------------- signing in

@off_hub
def for_session(db: Database, user_id: int, session_key: str) -> Principal | None:
    """The user a browser session belongs to, if the account is still active and the session
    was not ended (disable rotates the key)."""
    with db.reading() as s:
        user = s.get(User, user_id)
        if user is None or not user.active or not secrets.compare_digest(user.session_key, session_key):
            return None
        return _principal(user)


@off_hub
def for_token(db: Database, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    with db.reading() as s:
        row = s.execute(select(User).join(ApiToken, ApiToken.user_id == User.id).where(
            ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))).scalar_one_or_none()
        if row is None or not row.active:
            return None
        return _principal(row, via="token")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt."""

    principal: Principal | None
    problem: str = ""


@off_hub
def _credentials(db: Database, username: str) -> tuple[str | None, bool, datetime | None]:
    with db.reading() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            return None, False, None
        return user.password_hash, user.active, _aware(user.locked_until)


def sign_in(db: Database, actor: Actor, username: str, password: str, *, max_failures: int,
            lockout: timedelta) -> SignIn:
    """Check a local password. Every attempt is audited; the answer never says whether the
    account exists."""
    stored, active, locked_until = _credentials(db, username)
    correct = verify_password(stored, password)  # always run: the same time for every answer
    return _settle(db, actor, username, correct and active, locked_until, max_failures, lockout)


@off_hub
def _settle(db: Database, actor: Actor, username: str, correct: bool, locked_until: datetime | None,
            max_failures: int, lockout: timedelta) -> SignIn:
    refused = "The username or password is not right."
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username).with_for_update())
        now = _now()
        locked = user is not None and _aware(user.locked_until) is not None and _aware(user.locked_until) > now
        if user is None or not correct or locked or user.kind != "person":
            reason = ("locked" if locked else "unknown account" if user is None
                      else "not a person's account" if user.kind != "person" else "wrong password or disabled")
            detail = {"username": username[:64], "reason": reason}
            if user is not None and not locked and user.kind == "person":
                user.failed_logins += 1
                if user.failed_logins >= max_failures:
                    user.locked_until, user.failed_logins = now + lockout, 0
                    detail["locked_until"] = user.locked_until.isoformat()
            audit.append(s, Actor(username[:64], user.role if user else "", actor.ip, actor.request_id),
                         "auth.sign_in_failed", **detail)
            if locked or "locked_until" in detail:
                minutes = max(1, round(lockout.total_seconds() / 60))
                return SignIn(None, f"Too many failed attempts: this account is locked for {minutes} minutes.")
            return SignIn(None, refused)
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        audit.append(s, Actor(user.username, user.role, actor.ip, actor.request_id), "auth.sign_in", method="password")
        return SignIn(_principal(user))


@off_hub
def sign_on(db: Database, actor: Actor, *, subject: str, username_hint: str, display_name: str,
            role: str) -> Principal:
    """Single sign-on: the account for an identity provider's subject, created on first sign-on;
    its role follows the provider's claim at every sign-on (the provider is the source of truth)."""
    _check_role(role)
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.oidc_subject == subject).with_for_update())
        now = _now()
        if user is None:
            username = _free_username(s, username_hint)
            user = User(username=username, role=role, kind="person", display_name=display_name[:200],
                        password_hash=None, oidc_subject=subject, active=True, session_key=secrets.token_hex(16),
                        failed_logins=0, created_at=now)
            s.add(user)
            s.flush()
            audit.append(s, Actor(username, role, actor.ip, actor.request_id), "user.sign_on", username=username,
                         role=role, subject=subject)
        elif not user.active:
            raise AccountError("This account is disabled.")
        elif user.role != role:
            audit.append(s, Actor(user.username, role, actor.ip, actor.request_id), "user.role", username=user.username,
                         old=user.role, new=role, source="identity provider")
            user.role = role
        user.last_login_at, user.display_name = now, display_name[:200] or user.display_name
        audit.append(s, Actor(user.username, user.role, actor.ip, actor.request_id), "auth.sign_in", method="oidc")
        return _principal(user)


def _free_username(s, hint: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._@-]", "-", hint or "user").strip("-.")[:56] or "user"
    candidate, n = base, 1
    while s.scalar(select(User.id).where(func.lower(User.username) == candidate.lower())) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def bootstrap_admin(db: Database) -> str | None:
    """On first start with no accounts: create ``admin`` with a random password, returned once
    (to be printed on the console). None when accounts exist."""
    if count(db):
        return None
    password = secrets.token_urlsafe(15)
    try:
        add(db, Actor.system(), "admin", "admin", password, display_name="First administrator")
    except AccountError:  # another process made it first
        return None
    return password
