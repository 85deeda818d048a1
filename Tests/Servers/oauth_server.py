"""An MCP server behind the official Python SDK's own OAuth 2.1 stack, for mcpconn's login tests.

The SDK serves the protected resource metadata (RFC 9728), the authorization server metadata (RFC 8414),
dynamic client registration (RFC 7591), /authorize, /token (PKCE checked) and /revoke (RFC 7009); the
in-memory provider below approves every authorization at once (its `authorize` redirects straight back with a
code), issues access tokens that live `--access-ttl` seconds and refresh tokens that rotate on every use.

Test hooks (plain HTTP, no auth):
  POST /test/expire-access   every access token stops working (the next request gets 401)
  POST /test/revoke-refresh  every refresh token stops working (the next refresh gets invalid_grant)
  GET  /test/stats           counters: registrations, codes, refreshes, stale_refreshes, revocations

--hold-first-refresh holds the first refresh (POST /token with grant_type=refresh_token) until its client goes
away, and drops it unprocessed: a refresh whose process is killed mid-request then spends no refresh token, and
the test decides when that happens (no delay to outlast).

--jwt makes it an issuer of JWT access tokens for another resource (`serve --http --oauth-issuer`): RS256, kid
"k1", claims iss (the metadata's issuer), aud (the RFC 8707 `resource` the client asked for), sub ("alice"),
client_id, scope, iat, exp; its authorization server metadata names `jwks_uri` (GET /jwks, the public keys). With
`--grant-scopes "A B"` an authorization grants only those of the scopes asked for (as a user consenting to less).
More test hooks then:
  POST /test/mint    {"claims": {...}, "drop": [names], "key": "k1"|"k2"|"other", "alg": "RS256"|"none"|"HS256",
                     "tamper": {...}} → {"token": ...}: the default claims (aud must be given) updated with `claims`,
                     less `drop`; "other" is a key /jwks never lists; "none" is unsigned; "HS256" is signed with the
                     public key's PEM as an HMAC secret (the alg confusion attack); `tamper` replaces claims after
                     signing, keeping the signature.
  POST /test/rotate  a new key "k2" is listed in /jwks and signs every later token

Binds 127.0.0.1 on an OS-chosen port and prints `PORT <n>`; exits when stdin closes. With `--tls-cert`/`--tls-key`
(and `--tls-client-ca`: mutual TLS) it serves HTTPS, and its metadata names https URLs.
"""

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import socket
import time
from urllib.parse import parse_qs

import uvicorn
from lifetime import exit_when_stdin_closes
from tls_options import add_tls_arguments, uvicorn_tls
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class InstantProvider:
    """Approves at once; short-lived access tokens; refresh tokens rotate and die after one use."""

    def __init__(self, access_ttl: int, resource: str):
        self.access_ttl = access_ttl
        self.resource = resource
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.used_refresh: set[str] = set()
        self.stats = {"registrations": 0, "codes": 0, "refreshes": 0, "stale_refreshes": 0, "revocations": 0,
                      "resources": []}

    async def get_client(self, client_id):
        return self.clients.get(client_id)

    async def register_client(self, client_info):
        self.clients[client_info.client_id] = client_info
        self.stats["registrations"] += 1

    async def authorize(self, client, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code, scopes=self.grant(params.scopes or []), expires_at=time.time() + 300, client_id=client.client_id,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly, resource=params.resource)
        self.stats["codes"] += 1
        self.stats["resources"].append(params.resource)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code):
        code = self.codes.get(authorization_code)
        return code if code and code.client_id == client.client_id else None

    def _issue(self, client_id, scopes, resource) -> OAuthToken:
        access, refresh = self.access_token(client_id, scopes, resource), "rt-" + secrets.token_urlsafe(24)
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes,
                                          expires_at=int(time.time()) + self.access_ttl, resource=resource)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes, resource=resource)
        return OAuthToken(access_token=access, expires_in=self.access_ttl, scope=" ".join(scopes),
                          refresh_token=refresh)

    async def exchange_authorization_code(self, client, authorization_code):
        self.codes.pop(authorization_code.code, None)
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    def grant(self, scopes):
        return scopes

    def access_token(self, client_id, scopes, resource):
        return "at-" + secrets.token_urlsafe(24)

    async def load_refresh_token(self, client, refresh_token):
        if refresh_token in self.used_refresh:
            self.stats["stale_refreshes"] += 1
        token = self.refresh.get(refresh_token)
        return token if token and token.client_id == client.client_id else None

    async def exchange_refresh_token(self, client, refresh_token, scopes):
        # Rotation: the old refresh token dies with this exchange.
        if self.refresh.pop(refresh_token.token, None) is None:
            raise TokenError(error="invalid_grant", error_description="refresh token already used")
        self.used_refresh.add(refresh_token.token)
        self.stats["refreshes"] += 1
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token):
        t = self.access.get(token)
        if t is None or (t.expires_at is not None and t.expires_at < time.time()):
            return None
        return t

    async def revoke_token(self, token):
        self.stats["revocations"] += 1
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JWTProvider(InstantProvider):
    """Access tokens are RS256 JWTs of this issuer for the resource the client named (RFC 8707)."""

    def __init__(self, access_ttl: int, resource: str, issuer: str, granted):
        super().__init__(access_ttl, resource)
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.issuer = issuer
        self.granted = granted
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing = "k1"

    def grant(self, scopes):
        return [s for s in scopes if s in self.granted] if self.granted is not None else scopes

    def claims(self, client_id, scopes, resource):
        now = int(time.time())
        return {"iss": self.issuer, "aud": resource, "sub": "alice", "client_id": client_id,
                "scope": " ".join(scopes), "iat": now, "exp": now + self.access_ttl}

    def sign(self, claims, key=None, alg="RS256"):
        import jwt
        from cryptography.hazmat.primitives import serialization

        kid = key or self.signing
        if alg == "none":
            return b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode()) + "." + \
                b64url(json.dumps(claims).encode()) + "."
        if alg == "HS256":
            secret = self.keys[kid].public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + \
                b64url(json.dumps(claims).encode())
            return head + "." + b64url(hmac.new(secret, head.encode(), hashlib.sha256).digest())
        private = self.other if kid == "other" else self.keys[kid]
        return jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})

    def access_token(self, client_id, scopes, resource):
        token = self.sign(self.claims(client_id, scopes, resource or self.resource))
        return token

    def jwks(self):
        from jwt.algorithms import RSAAlgorithm

        keys = []
        for kid, private in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
            keys.append(jwk)
        return {"keys": keys}


def with_jwks_uri(asgi, jwks_uri):
    """The SDK's authorization server metadata, with `jwks_uri` added."""

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/.well-known/oauth-authorization-server":
            return await asgi(scope, receive, send)
        parts = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                parts["start"] = message
            elif message["type"] == "http.response.body":
                parts["body"] = parts.get("body", b"") + message.get("body", b"")
                if not message.get("more_body"):
                    body = json.loads(parts["body"])
                    body["jwks_uri"] = jwks_uri
                    data = json.dumps(body).encode()
                    headers = [(k, v) for k, v in parts["start"]["headers"] if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(data)).encode()))
                    await send({**parts["start"], "headers": headers})
                    await send({"type": "http.response.body", "body": data})

        return await asgi(scope, receive, capture)

    return app


def build(port: int, args):
    # With --tls-cert the metadata (issuer, endpoints, resource) says https, as a real deployment's would.
    base = f"{'https' if args.tls_cert else 'http'}://127.0.0.1:{port}"
    settings = AuthSettings(
        issuer_url=base,
        resource_server_url=f"{base}/mcp",
        validate_token_resource=not args.jwt,
        client_registration_options=ClientRegistrationOptions(
            enabled=True, valid_scopes=None if args.jwt else ["mcp:read", "mcp:write"],
            default_scopes=["mcp:read"]),
        revocation_options=RevocationOptions(enabled=True),
        required_scopes=[] if args.jwt else ["mcp:read"],
    )
    if args.jwt:
        granted = args.grant_scopes.split() if args.grant_scopes is not None else None
        provider = JWTProvider(args.access_ttl, f"{base}/mcp", str(settings.issuer_url), granted)
    else:
        provider = InstantProvider(args.access_ttl, f"{base}/mcp")
    app = MCPServer("oauth-test", auth_server_provider=provider, auth=settings, log_level="WARNING")

    if args.jwt:
        @app.custom_route("/jwks", methods=["GET"])
        async def jwks(request: Request):
            return JSONResponse(provider.jwks())

        @app.custom_route("/test/mint", methods=["POST"])
        async def mint(request: Request):
            asked = await request.json()
            claims = provider.claims("test-client", [], None)
            claims.update(asked.get("claims", {}))
            for name in asked.get("drop", []):
                claims.pop(name, None)
            token = provider.sign(claims, asked.get("key"), asked.get("alg", "RS256"))
            if "tamper" in asked:
                head, _, signature = token.split(".")
                claims.update(asked["tamper"])
                token = head + "." + b64url(json.dumps(claims).encode()) + "." + signature
            return JSONResponse({"token": token})

        @app.custom_route("/test/rotate", methods=["POST"])
        async def rotate(request: Request):
            from cryptography.hazmat.primitives.asymmetric import rsa

            provider.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            provider.signing = "k2"
            return JSONResponse({"ok": True})

    @app.tool()
    def echo(text: str) -> str:
        """Echoes the text back."""
        return text

    @app.custom_route("/test/expire-access", methods=["POST"])
    async def expire_access(request: Request):
        provider.access.clear()
        return JSONResponse({"ok": True})

    @app.custom_route("/test/revoke-refresh", methods=["POST"])
    async def revoke_refresh(request: Request):
        provider.used_refresh.update(provider.refresh)
        provider.refresh.clear()
        return JSONResponse({"ok": True})

    @app.custom_route("/test/stats", methods=["GET"])
    async def stats(request: Request):
        return JSONResponse(provider.stats)

    asgi = app.streamable_http_app()
    if args.jwt:
        asgi = with_jwks_uri(asgi, f"{base}/jwks")
    if not args.hold_first_refresh:
        return asgi
    held = False

    async def holding(scope, receive, send):
        nonlocal held
        if held or scope["type"] != "http" or scope["path"] != "/token":
            return await asgi(scope, receive, send)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if parse_qs(body.decode()).get("grant_type") == ["refresh_token"]:
            held = True
            while (await receive())["type"] != "http.disconnect":
                pass
            return  # the client went away: nothing is processed
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await asgi(scope, replay, send)

    return holding


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--access-ttl", type=int, default=3600, help="access token lifetime in seconds")
    p.add_argument("--hold-first-refresh", action="store_true", help="hold the first refresh until its client goes")
    p.add_argument("--no-stdin-watch", action="store_true")
    p.add_argument("--jwt", action="store_true", help="access tokens are JWTs for another resource (see above)")
    p.add_argument("--grant-scopes", help="with --jwt, the only scopes an authorization grants (space separated)")
    add_tls_arguments(p)
    args = p.parse_args()
    tls = uvicorn_tls(args)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    app = build(port, args)
    print(f"PORT {port}", flush=True)
    if not args.no_stdin_watch:
        exit_when_stdin_closes()
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **tls)).run(sockets=[sock])


if __name__ == "__main__":
    main()
