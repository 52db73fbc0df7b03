"""Agent Cards at /.well-known/agent-card.json (orchestrator) and /a2a/<agent>/.well-known/agent-card.json.

A card tells clients where to send their requests, so its URLs must not come from whoever asked:
they are PUBLIC_URL's, or — without it — the request's host only when that host is trusted
(TRUSTED_HOSTS, and the loopback names); any other Host header is refused. A card built from
the request is cacheable by the client only, never by a shared cache (it varies with Host).
"""

from __future__ import annotations

import hashlib
import json

from a2a.types import a2a_pb2 as pb
from flask import Response, abort, current_app, request
from google.protobuf import json_format
from werkzeug.sansio.utils import host_is_trusted

from webapp.a2a.agents import INPUT_MODES, OUTPUT_MODES, A2AAgent, agent_for

CARD_MAX_AGE = 300
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


class UntrustedHost(Exception):
    pass


def trusted_hosts(settings) -> list[str]:
    return [*settings.trusted_hosts, *LOOPBACK]


def base_url() -> str:
    """The absolute URL clients reach this server at: PUBLIC_URL, else a trusted request host."""
    settings = current_app.extensions["saa"].settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if not host_is_trusted(request.host.lower(), trusted_hosts(settings)):
        raise UntrustedHost(request.host)
    return request.url_root.rstrip("/")


def build_card(agent: A2AAgent) -> dict:
    settings = current_app.extensions["saa"].settings
    card = pb.AgentCard(
        name=agent.name, description=agent.description, version="1.0.0",
        documentation_url=f"{base_url()}/",
        provider=pb.AgentProvider(organization=settings.reporting_firm if not settings.reporting_firm.startswith("[")
                                  else "SMARTS Alert Analyzer", url=f"{base_url()}/"),
        supported_interfaces=[pb.AgentInterface(url=f"{base_url()}{agent.path}", protocol_binding="JSONRPC",
                                                protocol_version="1.0")],
        capabilities=pb.AgentCapabilities(streaming=True, push_notifications=False, extended_agent_card=False),
        default_input_modes=list(INPUT_MODES), default_output_modes=list(OUTPUT_MODES),
        skills=[pb.AgentSkill(id=agent.skill, name=agent.name, description=agent.description, tags=list(agent.tags),
                              examples=list(agent.examples), input_modes=list(INPUT_MODES),
                              output_modes=list(OUTPUT_MODES))],
    )
    # Every JSON-RPC call needs a bearer token: a user's or service account's API token
    # (`smarts-analyzer users token create`), or the server's static A2A_AUTH_TOKEN.
    card.security_schemes["bearer"].CopyFrom(pb.SecurityScheme(http_auth_security_scheme=pb.HTTPAuthSecurityScheme(
        scheme="Bearer", description="Send Authorization: Bearer <API token>: an API token of a user or service "
                                     "account of this server, or its static service token.")))
    requirement = pb.SecurityRequirement()
    requirement.schemes["bearer"].CopyFrom(pb.StringList())
    card.security_requirements.append(requirement)
    return json_format.MessageToDict(card)


def card_response(slug: str | None) -> Response:
    agent = agent_for(slug)
    if agent is None:
        abort(404)
    try:
        body = json.dumps(build_card(agent), indent=2, sort_keys=True)
    except UntrustedHost as exc:
        return Response(json.dumps({"error": f"This server does not answer to host {exc.args[0]!r}: set PUBLIC_URL "
                                             "(or TRUSTED_HOSTS) to the names clients use."}),
                        status=400, mimetype="application/json")
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    reflected = not current_app.extensions["saa"].settings.public_url
    headers = {"Cache-Control": f"{'private' if reflected else 'public'}, max-age={CARD_MAX_AGE}", "ETag": f'"{etag}"'}
    if reflected:
        headers["Vary"] = "Host"
    if etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)


def register(bp) -> None:
    bp.add_url_rule("/.well-known/agent-card.json", "card", lambda: card_response(None))
    bp.add_url_rule("/a2a/<slug>/.well-known/agent-card.json", "specialist_card", card_response)
