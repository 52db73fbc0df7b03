"""A2A v1.0 (JSON-RPC binding): the orchestrator and each specialist as A2A agents.

Tasks are runs: a task started over A2A is a run in the same store, with the same event log,
so it shows in the browser, and a run started in the browser is a task here. Message shapes
come from the a2a-sdk's protobuf types (serialised with protobuf's JSON mapping), so field
names and enum values are the specification's; transport, dispatch and streaming are Flask
and the shared event feed. v0.3 method names are served through the SDK's v0.3 conversions.
"""

from flask import Blueprint

bp = Blueprint("a2a", __name__)


def _register() -> None:
    from webapp.a2a import cards, compat, guard, rpc  # noqa: F401 - compat loads now, not on a first request

    cards.register(bp)
    guard.register(bp)
    # With or without a trailing slash: clients joining "/" to the card's URL send one.
    bp.add_url_rule("/a2a", "rpc", rpc.endpoint, methods=["POST"], strict_slashes=False)
    bp.add_url_rule("/a2a/<slug>", "specialist_rpc", rpc.endpoint, methods=["POST"], strict_slashes=False)


_register()
