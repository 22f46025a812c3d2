"""The shape of the project: pure engines, no `platform` package, the console script."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "sqlalchemy", "redis", "rq", "crm_platform")


@pytest.mark.parametrize("engine", ["form_engine", "workflow_engine"])
def test_engine_imports_no_web_database_or_queue_library(engine: str) -> None:
    code = (f"import sys, {engine}, pkgutil, importlib\n"
            f"for m in pkgutil.walk_packages({engine}.__path__, '{engine}.'):\n"
            f"    importlib.import_module(m.name)\n"
            f"print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "", f"{engine} pulled in {result.stdout.strip()}"


def test_there_is_no_top_level_platform_package() -> None:
    assert not (ROOT / "platform").exists()
    import platform
    import sysconfig

    # `import platform` must still give the standard library's module.
    assert Path(platform.__file__).parent == Path(sysconfig.get_paths()["stdlib"])


def test_loom_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["loom"] == "crm_platform.cli:main"
    assert project["requires-python"] == ">=3.11"


@pytest.mark.parametrize("engine", ["form_engine", "workflow_engine"])
def test_engine_modules_import_each_other_in_one_direction(engine: str) -> None:
    from tests.import_graph import cycles, module_imports

    assert cycles(module_imports(ROOT / engine, engine)) == []
