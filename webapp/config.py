"""Settings read from the environment, once, at app creation.

Everything a deployment may change is here so that a PaaS operator can configure the app
with environment variables alone; the defaults give a working single-machine install.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from webapp.paths import resource_dir
from webapp.roles import ROLES

# Specialists served by other A2A servers: the orchestrator delegates those alert types to them.
REMOTE_AGENT_VARS = {"insider_dealing": "INSIDER_DEALING_AGENT_URL", "wash_trade": "WASH_TRADE_AGENT_URL",
                     "spoofing": "SPOOFING_AGENT_URL"}


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def parse_role_map(raw: str) -> tuple[tuple[str, str], ...]:
    """``OIDC_ROLE_MAP="surv-reviewers=reviewer,surv-analysts=analyst"``: claim value -> role, in
    priority order (a user whose claim holds several values gets the first mapped one)."""
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        value, sep, role = item.rpartition("=")
        if not sep or not value.strip() or role.strip() not in ROLES:
            raise ValueError(f"OIDC_ROLE_MAP entry {item!r} is not VALUE=ROLE with a role among {', '.join(ROLES)}")
        pairs.append((value.strip(), role.strip()))
    return tuple(pairs)


def parse_reason_codes(raw: str) -> tuple[tuple[str, str], ...]:
    """``DESK_REASON_CODES="pre_cleared=Pre-cleared trade,market_making=Market making"``; empty: the
    defaults in webapp/record/lifecycle.py."""
    from webapp.record.lifecycle import DEFAULT_REASON_CODES

    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, sep, label = item.partition("=")
        if not sep or not code.strip() or not label.strip() or len(code.strip()) > 64:
            raise ValueError(f"DESK_REASON_CODES entry {item!r} is not CODE=Label (a code of at most 64 characters)")
        pairs.append((code.strip(), label.strip()))
    return tuple(pairs) or DEFAULT_REASON_CODES


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _names(name: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in os.environ.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    redis_url: str
    secret_key: str | None
    data_dir: Path
    max_alert_bytes: int
    redis_pool_size: int
    sse_heartbeat_interval: float
    sse_max_concurrent: int
    sse_retry_ms: int
    sse_max_lifetime: float
    openai_api_key: str | None
    openai_base_url: str | None
    openai_model: str
    llm_timeout: float
    llm_max_retries: int
    demo_step_delay: float
    reporting_firm: str
    lease_ttl: float
    recovery_interval: float
    instance_name: str
    public_url: str | None
    a2a_auth_token: str | None
    remote_agents: dict[str, str]
    remote_agent_token: str | None
    run_ttl_seconds: int
    max_runs_in_flight: int
    queue_poll_interval: float
    llm_requests_per_minute: int
    llm_tokens_per_minute: int
    batch_max_files: int
    batch_max_bytes: int
    batch_max_ratio: int
    state_dir: Path
    database_url: str
    sqlite_synchronous: str
    db_auto_upgrade: bool
    idle_timeout: float
    csrf_time_limit: int
    login_max_failures: int
    login_lockout_seconds: int
    login_ip_max_failures: int
    trusted_proxies: int
    metrics_token: str | None
    principal_cache_seconds: float
    oidc_issuer_url: str | None
    oidc_client_id: str | None
    oidc_client_secret: str | None
    oidc_scopes: str
    oidc_role_claim: str
    oidc_role_map: tuple[tuple[str, str], ...]
    oidc_label: str

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer_url and self.oidc_client_id)
    trusted_hosts: tuple[str, ...]
    rate_limit_upload: str
    rate_limit_upload_ip: str
    rate_limit_a2a_send: str
    rate_limit_a2a_send_ip: str
    rate_limit_sign_in: str
    rate_limit_sign_in_ip: str
    rate_limit_fallback: str
    llm_daily_token_budget: int
    desk_reason_codes: tuple[tuple[str, str], ...]
    desk_four_eyes: str

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        # Everything the app keeps on this machine (embedded Redis, the SQLite record, a generated
        # secret key) lives under one directory, created 0700.
        state_dir = Path(overrides.pop("state_dir", None) or os.environ.get("STATE_DIR") or Path.cwd() / "var")
        values = dict(
            redis_url=os.environ.get("REDIS_URL", ""),
            secret_key=os.environ.get("SECRET_KEY") or None,
            data_dir=Path(os.environ.get("DATA_DIR") or resource_dir("test_data")),
            max_alert_bytes=_int("MAX_ALERT_BYTES", 1024 * 1024),
            redis_pool_size=_int("REDIS_POOL_SIZE", 200),
            sse_heartbeat_interval=_float("SSE_HEARTBEAT_INTERVAL", 20.0),
            sse_max_concurrent=_int("SSE_MAX_CONCURRENT", 10_000),
            sse_retry_ms=_int("SSE_RETRY_MS", 2000),
            # A stream ends (without `close`) after at most this long and the browser reconnects with
            # its cursor: load spreads over new workers after a deploy, idle proxies drop nothing. 0: never.
            sse_max_lifetime=_float("SSE_MAX_LIFETIME", 600.0),
            openai_api_key=os.environ.get("OPENAI_API_KEY") or None,
            openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
            openai_model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
            llm_timeout=_float("LLM_TIMEOUT", 60.0),
            llm_max_retries=_int("LLM_MAX_RETRIES", 3),
            demo_step_delay=_float("DEMO_STEP_DELAY", 0.0),
            reporting_firm=os.environ.get("REPORTING_FIRM", "[Reporting firm — set REPORTING_FIRM]"),
            run_ttl_seconds=_int("RUN_TTL_SECONDS", 0),  # 0 keeps runs: they are audit records
            lease_ttl=_float("LEASE_TTL", 15.0),
            recovery_interval=_float("RECOVERY_INTERVAL", 5.0),  # 0 turns crash recovery off
            instance_name=os.environ.get("INSTANCE_NAME") or socket.gethostname(),
            public_url=os.environ.get("PUBLIC_URL") or None,
            a2a_auth_token=os.environ.get("A2A_AUTH_TOKEN") or None,
            remote_agents={kind: url for kind, var in REMOTE_AGENT_VARS.items() if (url := os.environ.get(var))},
            remote_agent_token=os.environ.get("REMOTE_AGENT_TOKEN") or None,
            # The work queue (webapp/workqueue.py): runs executing at once per instance, shared evenly by
            # its workers; the rest wait in one FIFO queue that every instance takes from.
            max_runs_in_flight=max(1, _int("MAX_RUNS_IN_FLIGHT", 200)),
            queue_poll_interval=_float("QUEUE_POLL_INTERVAL", 0.5),
            # The model's limits, shared by every worker of every instance (0: none).
            llm_requests_per_minute=_int("LLM_REQUESTS_PER_MINUTE", 0),
            llm_tokens_per_minute=_int("LLM_TOKENS_PER_MINUTE", 0),
            # Many alerts at once (webapp/intake.py): per upload, after decompression.
            batch_max_files=_int("BATCH_MAX_FILES", 2000),
            batch_max_bytes=_int("BATCH_MAX_BYTES", 64 * 1024 * 1024),
            batch_max_ratio=_int("BATCH_MAX_RATIO", 100),
            state_dir=state_dir,
            database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{state_dir / 'record' / 'analyzer.sqlite3'}",
            sqlite_synchronous=os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL"),  # FULL: fsync every commit
            db_auto_upgrade=os.environ.get("DB_AUTO_UPGRADE", "1") not in ("0", "false", "no"),
            idle_timeout=_float("IDLE_TIMEOUT_MINUTES", 30.0) * 60,
            csrf_time_limit=_int("CSRF_TIME_LIMIT", 4 * 3600),  # a form older than this is refused
            login_max_failures=_int("LOGIN_MAX_FAILURES", 5),        # per account, then a lockout
            login_lockout_seconds=_int("LOGIN_LOCKOUT_SECONDS", 900),
            login_ip_max_failures=_int("LOGIN_IP_MAX_FAILURES", 20),  # per client IP per lockout window
            trusted_proxies=_int("TRUSTED_PROXIES", 0),  # proxies in front whose X-Forwarded-* we believe
            metrics_token=os.environ.get("METRICS_TOKEN") or None,
            principal_cache_seconds=_float("PRINCIPAL_CACHE_SECONDS", 5.0),  # see webapp/auth/access.py
            oidc_issuer_url=(os.environ.get("OIDC_ISSUER_URL") or "").rstrip("/") or None,
            oidc_client_id=os.environ.get("OIDC_CLIENT_ID") or None,
            oidc_client_secret=os.environ.get("OIDC_CLIENT_SECRET") or None,
            oidc_scopes=os.environ.get("OIDC_SCOPES", "openid profile email"),
            oidc_role_claim=os.environ.get("OIDC_ROLE_CLAIM", "roles"),
            oidc_role_map=parse_role_map(os.environ.get("OIDC_ROLE_MAP", "")),
            oidc_label=os.environ.get("OIDC_LABEL", "single sign-on"),
            trusted_hosts=_names("TRUSTED_HOSTS"),
            rate_limit_upload=os.environ.get("RATE_LIMIT_UPLOAD") or "20/minute;300/day",
            rate_limit_upload_ip=os.environ.get("RATE_LIMIT_UPLOAD_IP") or "60/minute",
            rate_limit_a2a_send=os.environ.get("RATE_LIMIT_A2A_SEND") or "20/minute;300/day",
            rate_limit_a2a_send_ip=os.environ.get("RATE_LIMIT_A2A_SEND_IP") or "60/minute",
            rate_limit_sign_in=os.environ.get("RATE_LIMIT_SIGN_IN") or "5/minute;20/hour",
            rate_limit_sign_in_ip=os.environ.get("RATE_LIMIT_SIGN_IN_IP") or "30/minute",
            rate_limit_fallback=os.environ.get("RATE_LIMIT_FALLBACK") or "30/minute",
            llm_daily_token_budget=_int("LLM_DAILY_TOKEN_BUDGET", 2_000_000),
            # The desk (webapp/record/lifecycle.py): a proposal's reason codes, "code=Label,...", and
            # four-eyes: "rule" (every ESCALATE, every CLOSE overriding the AI) or "all" (every proposal).
            desk_reason_codes=parse_reason_codes(os.environ.get("DESK_REASON_CODES", "")),
            desk_four_eyes=_choice("DESK_FOUR_EYES", ("rule", "all"), "rule"),
        )
        values.update(overrides)
        return cls(**values)
