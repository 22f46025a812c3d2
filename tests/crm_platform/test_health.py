"""Liveness and readiness."""

from __future__ import annotations

from tests.services import redis_url_or_skip


def test_healthz_answers_without_authentication(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}


def test_readyz_checks_redis_when_configured(make_app) -> None:
    app = make_app(redis_url=redis_url_or_skip())
    assert app.test_client().get("/readyz").get_json()["checks"] == {
        "database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(make_app) -> None:
    app = make_app(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"].startswith("error")


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path) -> None:
    from crm_platform import create_app

    app = create_app({"database_url": f"sqlite:///{tmp_path}/missing/dir/x.db",
                      "secret_key": "x"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("error")
