"""Password hashing with scrypt (Werkzeug's implementation of hashlib.scrypt)."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
# A real hash of a random password: verifying against it costs the same as a real check,
# so "no such user" and "wrong password" take the same time.
_DUMMY_HASH = generate_password_hash("loom-timing-equaliser", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no hash."""
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
