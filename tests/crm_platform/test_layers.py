"""The service packages depend on each other in one direction only (see
`crm_platform/services/__init__.py`), and never on the API or the web pages above them."""

from __future__ import annotations

import ast
from pathlib import Path

import crm_platform.services
from tests.import_graph import cycles, module_imports

SERVICES = Path(crm_platform.services.__file__).parent
ORDER = ["identity", "storage", "forms", "records", "imports", "flows", "templates", "workspace",
         "delivery"]


def _imports() -> list[tuple[str, str, str]]:
    """(package, module file, imported module) for every import under services/."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        parts = path.relative_to(SERVICES).parts
        package = parts[0] if len(parts) > 1 else ""
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(package, str(path.relative_to(SERVICES)), name) for name in names]
    return found


def test_every_service_module_lives_in_a_domain_package():
    loose = [path.name for path in SERVICES.glob("*.py") if path.name != "__init__.py"]
    assert loose == []
    assert sorted(path.name for path in SERVICES.iterdir()
                  if (path / "__init__.py").exists()) == sorted(ORDER)


def test_packages_import_only_packages_listed_before_them():
    wrong = []
    for package, module, name in _imports():
        if not package or not name.startswith("crm_platform.services."):
            continue
        other = name.split(".")[2]
        if other in ORDER and ORDER.index(other) > ORDER.index(package):
            wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_services_never_import_the_api_or_the_pages():
    wrong = [f"{module} imports {name}" for _package, module, name in _imports()
             if name.startswith(("crm_platform.api", "crm_platform.web"))]
    assert wrong == []


def test_no_service_module_imports_itself_round_a_circle():
    graph = module_imports(SERVICES, "crm_platform.services")
    assert cycles(graph) == []
