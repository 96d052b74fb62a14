"""Project-level checks that belong to the suite: Django's system checks, migrations
in step with the models, the linter and the import contracts."""

import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]


def test_system_checks_pass():
    call_command("check", fail_level="WARNING", stdout=StringIO())


@pytest.mark.django_db(databases=["default", "owner"])  # makemigrations checks the history on every alias
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _import_linter_config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_import_contracts_are_kept():
    """The dependency rules of ARCHITECTURE.md (pyproject.toml, [tool.importlinter]): a wrong
    arrow between the apps, or an ignored import that no longer exists, fails here."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_import_contracts_cover_every_first_party_package():
    """Every package of the repository (but the tests) is a root package of the contracts and
    every local app stands in the layers, so a new app (the api) is checked from its first
    import instead of being skipped as unknown."""
    config = _import_linter_config()
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert set(config["root_packages"]) == packages
    local_apps = {app.name.split(".")[0] for app in apps.get_app_configs()} & packages - {"backoffice"}
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    named = {name.strip(" ()") for layer in layers for name in layer.replace(":", "|").split("|")}
    assert local_apps <= named, f"apps outside the layers contract: {sorted(local_apps - named)}"
