"""The people questions flows and rules ask — who has a role, who heads a department, who
manages whom, who is still active — answered inside one tenant (the engine's `Directory`)."""

from __future__ import annotations

from collections.abc import Sequence

from crm_platform.models import Department, Role, User, UserRole
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.roles import ADMIN


class PlatformDirectory:
    """The engine's questions about people, answered inside one tenant."""

    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope

    def active(self, ids: Sequence[int | None]) -> list[int]:
        """Those of `ids` who are users of this tenant and not deactivated, in order."""
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return []
        active = set(self.scope.session.scalars(self.scope.select(
            User, User.id.in_(wanted), User.is_active.is_(True)).with_only_columns(User.id)))
        return [i for i in wanted if i in active]

    def users_with_roles(self, roles: Sequence[str]) -> list[int]:
        statement = self.scope.select(User, User.is_active.is_(True)).join(
            UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id).where(
            Role.key.in_(list(roles))).with_only_columns(User.id).order_by(User.id)
        return list(dict.fromkeys(self.scope.session.scalars(statement)))

    def department_head(self, user: int, levels: int) -> int | None:
        person = self.scope.find(User, user)
        department = self.scope.find(Department, person.department_id) if (
            person and person.department_id) else None
        for _ in range(levels - 1):
            if department is None or department.parent_id is None:
                return None
            department = self.scope.find(Department, department.parent_id)
        heads = self.active([department.head_id] if department else [])
        return heads[0] if heads else None

    def managers(self, user: int, levels: int) -> list[int]:
        chain: list[int] = []
        person = self.scope.find(User, user)
        for _ in range(levels):
            if person is None or person.manager_id is None or person.manager_id in chain:
                break
            chain.append(person.manager_id)
            person = self.scope.find(User, person.manager_id)
        return self.active(chain)

    def admins(self) -> list[int]:
        return self.users_with_roles([ADMIN])
