"""The `loom` command line: help everywhere, bootstrap commands, demo, serve and worker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from crm_platform.cli import main
from tests.conftest import PASSWORD
from tests.services import redis_url_or_skip

COMMANDS = [[], ["serve"], ["demo"], ["worker"], ["db"], ["db", "upgrade"], ["tenant"],
            ["tenant", "create"], ["user", "create"], ["admin", "create"], ["template"],
            ["template", "list"], ["template", "show"], ["template", "check"],
            ["template", "install"], ["template", "export"], ["template", "upgrade"]]


def loom_executable() -> str:
    found = shutil.which("loom", path=os.path.dirname(sys.executable))
    assert found, "the loom console script is not installed next to this Python"
    return found


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "loom")
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run([loom_executable(), *command, "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage: loom" in result.stdout


def test_bootstrap_commands_create_a_working_tenant(app, database_url: str) -> None:
    runner = CliRunner()
    url = ["--database-url", database_url]
    assert runner.invoke(main, ["db", "upgrade", *url]).exit_code == 0
    created = runner.invoke(main, ["tenant", "create", *url, "--slug", "initech", "--name",
                                   "Initech", "--admin-email", "bill@initech.example",
                                   "--admin-password", PASSWORD])
    assert created.exit_code == 0, created.output
    user = runner.invoke(main, ["user", "create", *url, "--tenant", "initech", "--email",
                                "peter@initech.example", "--password", PASSWORD,
                                "--role", "designer"])
    assert user.exit_code == 0, user.output
    admin = runner.invoke(main, ["admin", "create", *url, "--email", "ops@loom.example",
                                 "--password", PASSWORD])
    assert admin.exit_code == 0, admin.output

    client = app.test_client()
    for tenant, email in (("initech", "peter@initech.example"),
                          ("platform", "ops@loom.example")):
        response = client.post("/api/v1/auth/token", json={
            "tenant": tenant, "email": email, "password": PASSWORD})
        assert response.status_code == 201, (tenant, response.get_json())


def test_cli_reports_bad_input_by_field(app, database_url: str) -> None:
    result = CliRunner().invoke(main, [
        "tenant", "create", "--database-url", database_url, "--slug", "x1", "--name", "X",
        "--admin-email", "not-an-email", "--admin-password", PASSWORD])
    assert result.exit_code == 1
    assert "admin.email: admin.email is not a valid e-mail address" in result.output
    unknown_role = CliRunner().invoke(main, [
        "user", "create", "--database-url", database_url, "--tenant", "nope", "--email",
        "a@b.example", "--password", PASSWORD])
    assert unknown_role.exit_code == 1
    assert "tenant nope was not found" in unknown_role.output


def test_demo_prepares_a_database_and_prints_the_login(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    first = CliRunner().invoke(main, ["demo", "--database-url", url, "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "tenant: demo" in first.output and "password: loom-demo-password" in first.output
    for email in ("sales@", "manager@", "service@", "finance@", "director@"):
        assert f"{email}demo.loom.example" in first.output
    assert "Installing the retail template as app 'retail'" in first.output
    assert "Open http" not in first.output  # --no-serve serves nothing to open
    again = CliRunner().invoke(main, ["demo", "--database-url", url, "--no-serve"])
    assert again.exit_code == 0 and "already there" in again.output
    assert "Installing" not in again.output
    reset = CliRunner().invoke(main, ["demo", "--database-url", url, "--no-serve", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert "Deleted" in reset.output and "Demo tenant 'demo' created" in reset.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_loom_demo_serves_and_the_printed_login_works(tmp_path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [loom_executable(), "demo", "--port", str(port)], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120   # it installs four templates first
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("loom demo did not start") from None
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token", method="POST",
            data=b'{"tenant": "demo", "email": "admin@demo.loom.example", '
                 b'"password": "loom-demo-password"}',
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        assert (tmp_path / "loom-demo.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_worker_needs_redis_url(monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


def test_worker_runs_a_real_rq_worker_in_burst_mode(tmp_path) -> None:
    redis_url = redis_url_or_skip()
    result = subprocess.run([loom_executable(), "worker", "--burst", "--queue", "loom-test"],
                            env={**os.environ, "REDIS_URL": redis_url,
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "loom-test" in result.stdout + result.stderr
