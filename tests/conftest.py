"""Shared fixtures: every database test runs once on SQLite and once on PostgreSQL.

The schema is built by the real Alembic migrations once per backend; after each test every
table is emptied, so tests commit for real (as the app does) and still start clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crm_platform import create_app
from crm_platform.config import Settings
from crm_platform.db import Base, Database
from crm_platform.migrate import upgrade
from crm_platform.models import User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.tenants import create_platform_admin, create_tenant
from crm_platform.services.identity.tokens import issue_token
from crm_platform.services.storage.data_fields import runtime_indexes
from tests.services import POSTGRES_URL, unavailable

PASSWORD = "correct horse battery"


def _prepare_postgres() -> str:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            encoding = connection.execute(text("SHOW server_encoding")).scalar()
            assert encoding == "UTF8", f"the test database must be UTF8, not {encoding}"
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as exc:  # unreachable: skip locally, fail under CI
        unavailable("PostgreSQL", POSTGRES_URL, exc)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'loom-test.db'}"
    else:
        url = _prepare_postgres()
    upgrade(url)
    return url


def _empty_all_tables(url: str) -> None:
    database = Database(url)
    tables = [table.name for table in Base.metadata.sorted_tables]
    with database.engine.begin() as connection:
        for name in runtime_indexes(connection):  # built when a test published a form
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    database.dispose()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Any]]:
    """Build an app on the test database; keyword arguments override settings."""
    apps = []

    def build(**overrides: Any):
        settings = Settings(database_url=database_url, secret_key="test-secret", testing=True)
        app = create_app(Settings(**{**settings.__dict__, **overrides}))
        apps.append(app)
        return app

    yield build
    from crm_platform.jobs import wait_for_jobs

    for app in apps:
        wait_for_jobs(app)  # in-process jobs (imports, index builds) finish first
        app.extensions["loom.db"].dispose()
    _empty_all_tables(database_url)


@pytest.fixture
def app(make_app: Callable[..., Any]):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app) -> Database:
    return app.extensions["loom.db"]


@dataclass
class TenantWorld:
    """A tenant with its administrator and that administrator's bearer headers."""

    id: int
    slug: str
    admin_id: int
    admin_email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def created(client: Any, path: str, body: Any, headers: dict[str, str]) -> Any:
    """POST `body` to `path` as `headers`; it must answer 201. Its JSON answer."""
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, (path, response.get_json())
    return response.get_json()


def published_app(client: Any, headers: dict[str, str], app: str, *forms: dict) -> None:
    """App `app` with each form definition created and published, in order."""
    created(client, "/api/v1/apps", {"key": app, "name": app.title()}, headers)
    for form in forms:
        created(client, f"/api/v1/apps/{app}/forms", form, headers)
        created(client, f"/api/v1/apps/{app}/forms/{form['key']}/publish", {}, headers)


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def make_tenant(db: Database) -> Callable[..., TenantWorld]:
    def build(slug: str = "acme", locale: str = "en") -> TenantWorld:
        email = f"admin@{slug}.example"
        with db.transaction() as session:
            tenant, admin = create_tenant(session, {
                "slug": slug, "name": slug.title(), "default_locale": locale,
                "admin": {"email": email, "password": PASSWORD, "locale": locale}})
            _token, secret = issue_token(TenantScope(session, tenant.id), admin, "test", admin.id)
            return TenantWorld(tenant.id, slug, admin.id, email, secret)

    return build


@pytest.fixture
def tenant_a(make_tenant) -> TenantWorld:
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(make_tenant) -> TenantWorld:
    return make_tenant("bravo")


@pytest.fixture
def platform_token(db: Database) -> str:
    with db.transaction() as session:
        admin = create_platform_admin(session, "root@loom.example", PASSWORD)
        _token, secret = issue_token(TenantScope(session, admin.tenant_id), admin, "test",
                                     admin.id)
        return secret


@pytest.fixture
def member_token(db: Database, tenant_a: TenantWorld) -> str:
    """A token of a plain (non-admin) user of tenant A."""
    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        user = scope.add(User(email="member@alpha.example", name="Member"))
        session.flush()
        _token, secret = issue_token(scope, user, "test", user.id)
        return secret
