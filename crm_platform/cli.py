"""The `loom` command: serve, demo, worker, database migrations and bootstrap."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from crm_platform.config import Settings, normalize_database_url
from crm_platform.db import Database
from crm_platform.errors import ConfigError, LoomError
from crm_platform.i18n import render_error

DEMO_TENANT = "demo"
DEMO_EMAIL = "admin@demo.loom.example"
DEMO_PASSWORD = "loom-demo-password"


def _describe(error: LoomError) -> str:
    body = render_error(error, "en")
    return "\n".join([body["message"], *(f"  {f['path']}: {f['message']}"
                                         for f in body["fields"])])


def secret_key_for(settings: Settings) -> str:
    """SECRET_KEY from the environment; for SQLite, one generated once and kept beside the file."""
    if settings.secret_key:
        return settings.secret_key
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException("SECRET_KEY must be set (see README, Configuration).")
    path = Path(url.database + ".secret")
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             stat.S_IRUSR | stat.S_IWUSR)  # never readable by others
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _settings(database_url: str | None = None) -> Settings:
    try:
        overrides: dict[str, Any] = {}
        if database_url:
            overrides["database_url"] = normalize_database_url(database_url)
        settings = Settings.from_env(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


@contextmanager
def _transaction(settings: Settings) -> Iterator[Any]:
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            yield session
    except LoomError as error:
        raise click.ClickException(_describe(error)) from error
    finally:
        database.dispose()


database_option = click.option("--database-url", envvar="DATABASE_URL", default=None,
                               help="SQLAlchemy URL; defaults to $DATABASE_URL or sqlite:///loom.db.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Loom: a low-code CRM builder."""


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@database_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(database_url: str | None, revision: str) -> None:
    """Apply the Alembic migrations up to REVISION."""
    from crm_platform.migrate import upgrade

    settings = _settings(database_url)
    upgrade(settings.database_url, revision)
    where = make_url(settings.database_url).render_as_string()  # hides any password
    click.echo(f"Database at {where} is at {revision}.")


@db.command("distribution-plan")
def db_distribution_plan() -> None:
    """Print the SQL that distributes the database by tenant on Citus (docs/scaling.md)."""
    from crm_platform import models  # noqa: F401  (registers every table)
    from crm_platform.db import Base
    from crm_platform.models.keys import distribution_plan

    click.echo("\n".join(distribution_plan(Base.metadata)))


@main.group()
def tenant() -> None:
    """Tenant commands."""


@tenant.command("create")
@database_option
@click.option("--slug", required=True, help="Short name used to sign in, e.g. acme.")
@click.option("--name", required=True, help="Display name.")
@click.option("--admin-email", required=True, help="E-mail of the tenant's first administrator.")
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password of that administrator (prompted when omitted).")
@click.option("--locale", type=click.Choice(["en", "zh"]), default="en", show_default=True)
def tenant_create(database_url: str | None, slug: str, name: str, admin_email: str,
                  admin_password: str, locale: str) -> None:
    """Create a tenant with its built-in roles and first administrator."""
    from crm_platform.cli_support import create_tenant_from_console

    with _transaction(_settings(database_url)) as session:
        created, admin = create_tenant_from_console(session, {
            "slug": slug, "name": name, "default_locale": locale,
            "admin": {"email": admin_email, "password": admin_password, "locale": locale}})
        click.echo(f"Created tenant {created.slug} (id {created.id}); admin {admin.email}.")


@main.group()
def user() -> None:
    """User commands."""


@user.command("create")
@database_option
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--email", required=True)
@click.option("--name", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--role", "role_keys", multiple=True, help="Role key to grant (repeatable).")
def user_create(database_url: str | None, tenant_slug: str, email: str, name: str | None,
                password: str, locale: str, role_keys: tuple[str, ...]) -> None:
    """Create a user in a tenant."""
    from crm_platform.cli_support import create_user_in_tenant

    with _transaction(_settings(database_url)) as session:
        body = {"email": email, "password": password, "locale": locale,
                **({"name": name} if name else {})}
        created = create_user_in_tenant(session, tenant_slug, body, role_keys)
        click.echo(f"Created user {created.email} (id {created.id}) in {tenant_slug}.")


@main.group()
def admin() -> None:
    """Platform administrator commands."""


@admin.command("create")
@database_option
@click.option("--email", required=True)
@click.option("--name", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def admin_create(database_url: str | None, email: str, name: str | None, password: str) -> None:
    """Create (or reset the password of) a platform administrator."""
    from crm_platform.services.identity.tenants import PLATFORM_SLUG, create_platform_admin

    with _transaction(_settings(database_url)) as session:
        created = create_platform_admin(session, email, password, name)
        click.echo(f"Platform administrator {created.email} ready; sign in with tenant "
                   f"'{PLATFORM_SLUG}'.")


def _serve(settings: Settings, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from crm_platform import create_app

    app = create_app(Settings.from_env(database_url=settings.database_url,
                                       secret_key=secret_key_for(settings)))
    if not app.config["LOOM_SETTINGS"].redis_url:
        from crm_platform.jobs import start_ticker

        start_ticker(app)  # without Redis the timers fire in this process
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
@database_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(database_url: str | None, host: str, port: int) -> None:
    """Serve Loom with the built-in threaded server (production: gunicorn, see README)."""
    _serve(_settings(database_url), host, port)


@main.command()
@click.option("--database-url", default="sqlite:///loom-demo.db", show_default=True,
              help="Where the demo keeps its data.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
@click.option("--reset", is_flag=True, help="Delete the demo's SQLite database and start over.")
def demo(database_url: str, host: str, port: int, no_serve: bool, reset: bool) -> None:
    """A demo tenant with the four template apps and their sample data, the logins of a
    person for each role printed, then serve. Run again, it keeps the data."""
    from crm_platform.cli_support import prepare_demo
    from crm_platform.demo import PEOPLE
    from crm_platform.migrate import upgrade

    settings = _settings(database_url)
    if reset:
        _reset(settings.database_url)
    upgrade(settings.database_url)
    from crm_platform import create_app
    from crm_platform.db import database

    # an application (in-process jobs): publishing the demo's forms queues their indexes
    app = create_app(Settings.from_env(database_url=settings.database_url,
                                       secret_key=secret_key_for(settings)))
    with app.app_context():
        try:
            with database(app).transaction() as session:
                created, _people = prepare_demo(session, DEMO_TENANT, DEMO_EMAIL,
                                                DEMO_PASSWORD, say=click.echo)
        except LoomError as error:
            raise click.ClickException(_describe(error)) from error
        finally:
            from crm_platform.jobs import wait_for_jobs

            wait_for_jobs(app)
    state = "created" if created else "already there (its data is kept)"
    click.echo(f"Demo tenant '{DEMO_TENANT}' {state}: apps sales, manufacturing, education "
               "and retail, from the templates, with their sample data.")
    click.echo(f"Sign in with tenant: {DEMO_TENANT}   password: {DEMO_PASSWORD}   e-mail:")
    for email, who in ((DEMO_EMAIL, "administrator"),
                       *((person.email, person.who) for person in PEOPLE)):
        click.echo(f"  {email:32} {who}")
    if not no_serve:
        click.echo(f"Open http://{host}:{port}/")
        _serve(settings, host, port)


def _reset(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException("--reset deletes the demo's SQLite file; for another "
                                   "database, drop it yourself.")
    for suffix in ("", "-wal", "-shm"):
        Path(url.database + suffix).unlink(missing_ok=True)
    click.echo(f"Deleted {url.database}.")


@main.command()
@click.option("--queue", "queues", multiple=True, default=("default",), show_default=True)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an rq worker (with rq's scheduler) on $REDIS_URL."""
    from redis import Redis
    from rq import Worker

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set; without Redis, `loom serve` runs jobs "
                                   "in-process and no worker is needed.")
    from crm_platform.jobs import start_ticker, tick, worker_app

    connection = Redis.from_url(redis_url)
    app = worker_app()
    with app.app_context():
        tick(app)  # timers due while no worker ran (the database keeps them)
    if not burst:
        start_ticker(app)
    Worker(list(queues), connection=connection).work(with_scheduler=True, burst=burst)


def _register_groups() -> None:
    from crm_platform.cli_templates import register

    register(main, database_option)


_register_groups()

if __name__ == "__main__":  # python -m crm_platform.cli
    main()
