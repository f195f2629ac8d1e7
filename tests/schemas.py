"""The official schemas in ../shared/schemas and their validator, for every test that checks
the XML we write (EAD3, EAC-CPF, Dublin Core, OAI-PMH, PREMIS)."""
from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
HAVE_SCHEMAS = (SCHEMAS / "validate.py").exists()
needs_schemas = pytest.mark.skipif(not HAVE_SCHEMAS, reason="../shared/schemas is not present")


@functools.cache
def validator() -> Callable[[str, str], list[str]]:
    """shared/schemas/validate.py's validate(schema, path) -> list of errors."""
    spec = importlib.util.spec_from_file_location("shared_validate", SCHEMAS / "validate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.validate  # type: ignore[no-any-return]


def assert_valid(schema: str, path: Path, context: str = "") -> None:
    errors = validator()(schema, str(path))
    assert errors == [], (f"{path.name} is not valid against {schema}:\n" + "\n".join(errors)
                          + ("\n" + context if context else ""))
