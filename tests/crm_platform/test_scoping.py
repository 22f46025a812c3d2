"""Tenant filtering happens in one place: `crm_platform.scoping.TenantScope`."""

from __future__ import annotations

import re
from pathlib import Path

import crm_platform

PACKAGE = Path(crm_platform.__file__).parent
# `.tenant_id ==`, `== x.tenant_id`, `filter_by(tenant_id=…)`, `.tenant_id.in_(`
# (`!=` comparisons of two loaded rows are integrity checks, not queries, and are allowed.)
BY_HAND = re.compile(r"\.tenant_id\s*(==|\.in_\()|==\s*\w+\.tenant_id\b|"
                     r"filter_by\([^)]*tenant_id\s*=")
# A join of two tables on their tenant (`A.tenant_id == B.tenant_id`) filters nothing.
SAME_TENANT = re.compile(r"\w+\.tenant_id\)?\s*==\s*\w+\.tenant_id\b")


def test_no_module_filters_by_tenant_id_by_hand() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py") if path.name != "scoping.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BY_HAND.search(SAME_TENANT.sub("", line))
    ]
    assert offenders == []


def test_the_check_recognises_each_spelling() -> None:
    for line in ("select(User).where(User.tenant_id == 3)", "x.where(3 == User.tenant_id)",
                 "q.filter_by(tenant_id=3)", "User.tenant_id.in_([1, 2])"):
        assert BY_HAND.search(SAME_TENANT.sub("", line)), line
    assert not BY_HAND.search(SAME_TENANT.sub("", "foreign(A.tenant_id) == B.tenant_id)"))


def test_scope_get_treats_other_tenants_rows_as_missing(db, tenant_a, tenant_b) -> None:
    import pytest

    from crm_platform.errors import NotFound
    from crm_platform.models import User
    from crm_platform.scoping import TenantScope

    with db.transaction() as session:
        assert TenantScope(session, tenant_a.id).get(User, tenant_a.admin_id, "user")
        with pytest.raises(NotFound):
            TenantScope(session, tenant_b.id).get(User, tenant_a.admin_id, "user")
        assert TenantScope(session, tenant_a.id).find(User, "1") is None
