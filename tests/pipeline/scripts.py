"""The pipeline's scripts (deploy/pipeline/*.py) loaded as modules for the tests."""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import PROJECT_DIR

PIPELINE_DIR = PROJECT_DIR / "deploy" / "pipeline"


def load(name: str):
    module_name = f"bookdesk_pipeline_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, PIPELINE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
