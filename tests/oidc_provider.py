"""A small OpenID Connect provider for the sign-on tests, built on Authlib's server side — what
tests/fake_openai.py is for the LLM: a real server the app talks real HTTP to.

It does what the app relies on and checks what a real provider checks: discovery, the
authorization code flow with PKCE *required* (S256), client authentication, signed ID tokens
(RS256, key published at ``jwks_uri``) carrying the nonce and each user's claims (roles),
and RP-initiated logout (``end_session_endpoint``, which checks the ``id_token_hint`` and
sends the browser back to ``post_logout_redirect_uri``). The sign-in page is a list of the
configured users with a button each; no cookies, so it never touches the app's.

``GET /_log`` tells a test what the provider saw (e.g. that the token request proved PKCE);
``POST /_rogue`` makes it sign ID tokens with a key it does not publish, as a compromised or
spoofed provider would.

    python -m tests.oidc_provider --port 8500 --client-id app --client-secret s3cret \\
        --user '{"sub": "u1", "preferred_username": "olivia", "roles": ["surv-analysts"]}'
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, render_template_string, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

SIGN_IN_PAGE = """<!doctype html><html><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1><p>Sign in to {{ client_id }} as:</p>
{% for user in users %}
<form method="post" action="{{ action }}"><input type="hidden" name="sub" value="{{ user.sub }}">
<button type="submit" id="as-{{ user.preferred_username }}">{{ user.preferred_username }}</button></form>
{% endfor %}
<form method="post" action="{{ action }}"><button type="submit" name="deny" value="1" id="deny">Deny</button></form>
</body></html>"""


@dataclass
class Client:
    client_id: str
    client_secret: str

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.startswith(("http://127.0.0.1:", "http://localhost:"))

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class Provider:
    def __init__(self, client_id: str, client_secret: str, users: list[dict]):
        self.client = Client(client_id, client_secret)
        self.users = {user["sub"]: user for user in users}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "published"})
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": "published"})  # same kid, other key
        self.rogue = False
        self.codes: dict[str, Code] = {}
        self.issued_id_tokens: set[str] = set()
        self.log: list[dict] = []
        self.lock = threading.Lock()
        self.issuer = ""

    def note(self, **entry) -> None:
        with self.lock:
            self.log.append(entry)


def create_app(provider: Provider) -> Flask:
    app = Flask(__name__)
    server = AuthorizationServer(app, query_client=lambda cid: provider.client if cid == provider.client.client_id
                                 else None, save_token=lambda token, req: None)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code, req):
            payload = req.payload.data
            provider.codes[code] = Code(code, req.client.client_id, req.payload.redirect_uri, req.payload.scope,
                                        req.user, payload.get("nonce"), payload.get("code_challenge"),
                                        payload.get("code_challenge_method"))
            provider.note(event="authorize", sub=req.user["sub"], code_challenge_method=payload.get(
                "code_challenge_method"), has_code_challenge=bool(payload.get("code_challenge")),
                has_nonce=bool(payload.get("nonce")))

        def query_authorization_code(self, code, client):
            found = provider.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code):
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class IDToken(OpenIDCode):
        def exists_nonce(self, nonce, req):
            return any(code.nonce == nonce for code in provider.codes.values())

        def resolve_client_private_key(self, client):
            return provider.rogue_key if provider.rogue else provider.key

        def get_client_algorithm(self, client):
            return "RS256"

        def get_encode_header(self, client):
            return {"alg": "RS256", "kid": "published"}

        def get_client_claims(self, client):
            return {"iss": provider.issuer, "aud": [client.client_id], "exp": int(time.time()) + 300}

        def generate_user_info(self, user, scope):
            return UserInfo(**user)

        def process_token(self, grant, response):
            token = super().process_token(grant, response)
            provider.issued_id_tokens.add(token.get("id_token", ""))
            provider.note(event="token", code_verifier=bool(grant.request.payload.data.get("code_verifier")),
                          signed_with="rogue" if provider.rogue else "published")
            return token

    server.register_grant(CodeGrant, [IDToken(require_nonce=True), CodeChallenge(required=True)])

    @app.before_request
    def issuer():
        provider.issuer = request.host_url.rstrip("/")

    @app.get("/.well-known/openid-configuration")
    def discovery():
        base = provider.issuer
        return jsonify(issuer=base, authorization_endpoint=f"{base}/authorize", token_endpoint=f"{base}/token",
                       jwks_uri=f"{base}/jwks", end_session_endpoint=f"{base}/logout",
                       response_types_supported=["code"], subject_types_supported=["public"],
                       id_token_signing_alg_values_supported=["RS256"], scopes_supported=["openid", "profile",
                                                                                           "email"],
                       token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
                       code_challenge_methods_supported=["S256"], claims_supported=["sub", "name", "roles"])

    @app.get("/jwks")
    def jwks():
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        if request.method == "GET":
            try:
                server.get_consent_grant(end_user=None)
            except Exception as exc:  # shown to the test, as a provider would show it
                return f"invalid authorization request: {exc}", 400
            return render_template_string(SIGN_IN_PAGE, users=provider.users.values(), action=request.full_path,
                                          client_id=request.args.get("client_id"))
        user = None if request.form.get("deny") else provider.users.get(request.form.get("sub", ""))
        grant = server.get_consent_grant(end_user=user)
        return server.create_authorization_response(grant_user=user, grant=grant)

    @app.post("/token")
    def token():
        return server.create_token_response()

    @app.get("/logout")
    def logout():
        hint = request.args.get("id_token_hint", "")
        valid = False
        try:
            claims = jwt.decode(hint, provider.key).claims
            valid = hint in provider.issued_id_tokens and claims.get("iss") == provider.issuer
        except Exception:  # noqa: S110 - an invalid hint is what this records
            pass
        target = request.args.get("post_logout_redirect_uri", "")
        provider.note(event="end_session", id_token_hint_valid=valid, post_logout_redirect_uri=target,
                      state=request.args.get("state"))
        if valid and provider.client.check_redirect_uri(target):
            separator = "&" if "?" in target else "?"
            return redirect(f"{target}{separator}state={request.args.get('state', '')}")
        return "Signed out of the test identity provider.", 200

    @app.get("/_log")
    def log():
        with provider.lock:
            return jsonify(list(provider.log))

    @app.post("/_rogue")
    def rogue():
        provider.rogue = request.args.get("on", "1") == "1"
        return "", 204

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--user", action="append", default=[], help="a user's claims as JSON (with sub)")
    args = parser.parse_args()
    provider = Provider(args.client_id, args.client_secret, [json.loads(u) for u in args.user])
    httpd = make_server("127.0.0.1", args.port, create_app(provider), threaded=True)
    print(f"listening on http://127.0.0.1:{httpd.server_port}", flush=True)  # the test reads the port here
    httpd.serve_forever()


if __name__ == "__main__":
    main()
