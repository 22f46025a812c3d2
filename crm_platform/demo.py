"""`loom demo`: a demo tenant with the four shipped templates installed as apps — the sales
core (`sales`), manufacturing, education and retail — each with its sample records, and a
person for each role (administrator, sales manager, two sales people, service, finance,
director) in a small department tree, each able to sign in.

Everything goes through the same services as by hand: the templates' roles are made
first, then the people who hold them, then each template is installed, so its sample
records are shared out among the people of their role. Running the demo again keeps what
is there and installs only a template whose app is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_platform.auth.principal import Principal
from crm_platform.models import App, Department, Role, Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.departments import create_department
from crm_platform.services.identity.users import create_user
from crm_platform.services.templates.checks import checked_bundle
from crm_platform.services.templates.install import ensure_roles, install_bundle
from templates_gallery.bundles import shipped

APPS = (("sales_core", "sales"), ("manufacturing", "manufacturing"),
        ("education", "education"), ("retail", "retail"))


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    who: str                      # as the demo prints it
    roles: tuple[str, ...]        # those the templates define are granted
    department: str               # key of DEPARTMENTS
    locale: str = "en"


DEPARTMENTS = (("sales", "销售部 Sales", None), ("east", "华东组 East", "sales"),
               ("north", "华北组 North", "sales"), ("service", "客服部 Service", None),
               ("finance", "财务部 Finance", None))
PEOPLE = (
    Person("manager@demo.loom.example", "李娜 (Manager)", "sales manager",
           ("sales_manager", "campus_manager", "store_manager", "marketing"), "sales"),
    Person("sales@demo.loom.example", "王小明", "sales, East (Chinese pages)",
           ("sales", "sales_east", "course_consultant", "store_clerk"), "east", "zh"),
    Person("emily@demo.loom.example", "Emily Chen", "sales, North",
           ("sales", "sales_north", "sales_south", "course_consultant", "store_clerk",
            "channel_manager"), "north"),
    Person("service@demo.loom.example", "张伟", "service manager and field engineer",
           ("service", "service_manager", "field_engineer", "teacher",
            "production_planner"), "service", "zh"),
    Person("finance@demo.loom.example", "陈静", "finance", ("finance",), "finance", "zh"),
    Person("director@demo.loom.example", "Daniel Wong", "director", ("director",), "sales"),
)


def prepare_demo_apps(session: Session, tenant: Tenant, password: str,
                      say: Callable[[str], None] = lambda _text: None) -> list[Person]:
    """The departments, people and template apps the tenant lacks; the people made now."""
    scope = TenantScope(session, tenant.id)
    console = Principal.console(tenant.id)
    bundles = shipped()
    checked = {key: checked_bundle(bundles[key], "en") for key, _app in APPS}
    for bundle in checked.values():
        ensure_roles(scope, console, bundle.get("roles", []))
    made = _people(scope, console, password)
    have = set(session.scalars(scope.select(App).with_only_columns(App.key)))
    for key, app_key in APPS:
        if app_key not in have:
            say(f"Installing the {key} template as app '{app_key}' …")
            install_bundle(scope, console, None, bundle=checked[key], app_key=app_key)
    return made


def _people(scope: TenantScope, console: Principal, password: str) -> list[Person]:
    if scope.session.scalars(scope.select(User, User.email == PEOPLE[0].email)).first():
        return []
    departments: dict[str, Department] = {}
    for key, name, parent in DEPARTMENTS:
        departments[key] = create_department(scope, console, {
            "name": name, **({"parent_id": departments[parent].id} if parent else {})})
    roles = {role.key: role.id for role in scope.session.scalars(scope.select(Role))}
    for person in PEOPLE:
        user = create_user(scope, console, {
            "email": person.email, "name": person.name, "password": password,
            "roles": [roles[key] for key in person.roles if key in roles],
            "department_id": departments[person.department].id, "locale": person.locale})
        if person.department in ("sales", "service", "finance") and departments[
                person.department].head_id is None:
            departments[person.department].head_id = user.id
    scope.session.flush()
    return list(PEOPLE)

