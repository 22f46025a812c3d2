"""Approval flows and automation rules: their definitions and versions (`definitions`),
running approvals (`approvals`), automation rules on record changes (`automations`),
timeouts (`timers`) and scheduled rules (`schedules`).

Records do not call into flows: `init_app` subscribes the automation rules to the records
package's change hook (`records.changes`), so every create, update and delete — one by one,
in a batch or in an import — runs the form's rules in the change's own transaction.
"""

from __future__ import annotations

from typing import Any

from crm_platform.services.records import changes


def init_app(app: Any) -> None:
    from crm_platform.services.flows import automations

    changes.subscribe("automations", changes.Listener(listens_to=automations.has_rules,
                                                      changed=automations.on_change))
