"""A service never imports another service, nor does the shared library import a service."""

import ast

import pytest

from credstack import devstack
from credstack.testing import REPO


def imported_packages(package_dir: str) -> set[str]:
    found = set()
    for path in (REPO / package_dir).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("service", devstack.SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = set(devstack.SERVICES) - {service}
    assert imported_packages(f"services/{service}/src") & others == set()


def test_the_shared_library_imports_no_service() -> None:
    assert imported_packages("shared/src") & set(devstack.SERVICES) == set()
