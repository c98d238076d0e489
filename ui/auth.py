"""Who may use the server: the token rule, and the checks for the API and the web UI.

The rule: a server bound to 127.0.0.1, ::1 or localhost is open, unless a token is configured;
a server bound to any other address (0.0.0.0, a LAN address, even 127.0.0.2) needs a token, from the environment
(RAG_UI_TOKEN) or a file (--token-file / RAG_UI_TOKEN_FILE), unless the user passes --no-auth.
The API takes it as `Authorization: Bearer <token>`; the web UI as the password of its login
form (any user name). The token never appears in a repr, a log line or a page.

It does not do users, roles or rate limits.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from rag.errors import ConfigError

MIN_TOKEN_CHARS = 12
_PRIVATE = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


@dataclass(frozen=True)
class Auth:
    token: str = field(default="", repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def check_bearer(self, header: str | None) -> bool:
        """True when auth is off or `header` is "Bearer <the token>"."""
        if not self.enabled:
            return True
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and self.check_password(value.strip())

    def check_password(self, password: str) -> bool:
        return not self.enabled or hmac.compare_digest(password.encode(), self.token.encode())

    def gradio_login(self, username: str, password: str) -> bool:
        return self.check_password(password)


def is_loopback(host: str) -> bool:
    """Only the default addresses count as private; anything else is treated as exposed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")) in _PRIVATE
    except ValueError:
        return False


def resolve(host: str, *, no_auth: bool, token_file: Path | None,
            env: Mapping[str, str]) -> Auth:
    """The Auth for a server bound to `host`. Raises ConfigError when a token is needed and
    missing, or is too short to be one."""
    token = env.get("RAG_UI_TOKEN", "").strip()
    path = token_file or (Path(env["RAG_UI_TOKEN_FILE"]) if env.get("RAG_UI_TOKEN_FILE") else None)
    if not token and path is not None:
        try:
            token = path.expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {path} ({exc.strerror or exc}): "
                              "check the path, or set RAG_UI_TOKEN") from None
    if no_auth:
        return Auth()
    if token and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"the UI token has {len(token)} characters; use at least {MIN_TOKEN_CHARS} "
                          "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if not token and not is_loopback(host):
        raise ConfigError(f"binding to {host} exposes the assistant beyond this machine: set "
                          "RAG_UI_TOKEN (or --token-file FILE) to require a token, or pass "
                          "--no-auth to serve without one")
    return Auth(token)
