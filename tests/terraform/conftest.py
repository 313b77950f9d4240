from __future__ import annotations

import pytest

from tests.terraform.hcl import TF_DIR, Module, load_module


@pytest.fixture(scope="session")
def root() -> Module:
    return load_module(TF_DIR)


@pytest.fixture(scope="session")
def log_filter_module() -> Module:
    return load_module(TF_DIR / "modules" / "log-filter")
