"""Where the top-level templates/, static/, migrations/ and test_data/ directories live.

In a source checkout (and an editable install) they sit beside the packages; in a wheel
they are carried inside the packages (see pyproject.toml). Both layouts are supported.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_HOMES = {
    "templates": "webapp",
    "static": "webapp",
    "test_data": "agents",
    "migrations": "webapp",
}
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """Return the directory for one of the top-level resource folders."""
    installed = _SOURCE_ROOT / _PACKAGE_HOMES[name] / name
    if installed.is_dir():
        return installed
    return _SOURCE_ROOT / name
