"""`loom template …` on a real database: check, install a bundle file, export it, and
upgrade with a conflict shown, then resolved on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crm_platform.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_check_install_export_and_upgrade_from_the_command_line(app, database_url, tenant_a,
                                                                tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    runner = CliRunner()
    url = ["--database-url", database_url, "--tenant", "alpha"]
    v1, v2 = str(FIXTURES / "helpdesk_v1.json"), str(FIXTURES / "helpdesk_v2.json")

    checked = runner.invoke(main, ["template", "check", v1])
    assert checked.exit_code == 0, checked.output
    assert "helpdesk 1.0.0: valid (2 forms)." in checked.output
    broken = json.loads(Path(v1).read_text("utf-8"))
    broken["forms"][1]["rules"][0]["error_if"] = "refund >"
    (tmp_path / "broken.json").write_text(json.dumps(broken), "utf-8")
    refused = runner.invoke(main, ["template", "check", str(tmp_path / "broken.json")])
    assert refused.exit_code == 1
    assert "forms.ticket.rules[0].error_if" in refused.output

    installed = runner.invoke(main, ["template", "install", v1, *url])
    assert installed.exit_code == 0, installed.output
    assert "Installed app 'helpdesk' in tenant alpha." in installed.output

    out = tmp_path / "helpdesk.loom.json"
    exported = runner.invoke(main, ["template", "export", *url, "--app", "helpdesk",
                                    "--sample-data", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert len(json.loads(out.read_text("utf-8"))["sample_data"]["ticket"]) == 3

    # The tenant changes the same threshold v2 changes: the upgrade stops on the conflict.
    form = app.test_client().get("/api/v1/apps/helpdesk/forms/ticket",
                                 headers=tenant_a.headers).get_json()
    draft = form["draft"]
    draft["rules"][0]["error_if"] = "refund > 3000"
    client = app.test_client()
    client.put("/api/v1/apps/helpdesk/forms/ticket/draft", json=draft,
               headers=tenant_a.headers)
    client.post("/api/v1/apps/helpdesk/forms/ticket/publish", json={},
                headers=tenant_a.headers)
    stopped = runner.invoke(main, ["template", "upgrade", v2, *url, "--app", "helpdesk"])
    assert stopped.exit_code == 1
    assert "CONFLICT forms/ticket/rules/refund_cap/error_if" in stopped.output
    assert 'mine   "refund > 3000"' in stopped.output
    assert 'theirs "refund > 8000"' in stopped.output
    done = runner.invoke(main, ["template", "upgrade", v2, *url, "--app", "helpdesk",
                                "--resolve", "forms/ticket/rules/refund_cap/error_if=theirs"])
    assert done.exit_code == 0, done.output
    assert "Upgraded 'helpdesk' to 2.0.0." in done.output
    published = client.get("/api/v1/apps/helpdesk/forms/ticket", headers=tenant_a.headers
                           ).get_json()["published"]
    assert published["version"] == 3
    assert published["definition"]["rules"][0]["error_if"] == "refund > 8000"
