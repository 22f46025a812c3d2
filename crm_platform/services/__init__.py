"""The service layer: every operation Loom offers, with its permission checks, taking a
session (a `TenantScope`) and never committing. The API, the web pages, the console and
the jobs all call these; none of them decides a rule of its own.

One subpackage per domain, each depending only on those listed before it:

- `identity` — tenants, users, departments, roles, API tokens, the directory of people;
- `storage` — how records' JSON data is read, compared, indexed and counted in SQL;
- `forms` — apps and their forms: drafts, published versions, permissions, indexes;
- `records` — reading and writing records: access, filters and pages, duplicates, derived
  values, history, batches, and the record-change hook (`records.changes`);
- `imports` — files in and out: CSV / XLSX import and export;
- `flows` — approval flows and automation rules, their timers and schedules; subscribes to
  record changes at start (`flows.init_app`);
- `templates` — template bundles in a tenant: check, install, export, upgrade by merge;
- `workspace` — what the pages show around the records: my apps, tasks, recent records;
- `delivery` — the outbox: e-mail and webhooks sent after their transaction commits.

`tests/crm_platform/test_layers.py` holds the packages to that order.
"""
