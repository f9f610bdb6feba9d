"""Extensions created unbound and bound in create_app()."""

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()


def _client_address() -> str:
    # remote_addr is the peer, or what ProxyFix accepted from a configured, trusted proxy — never a
    # client-supplied X-Forwarded-For otherwise.
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=_client_address, default_limits=[])
