"""Every job name in the catalog is a job function RQ can import."""

from __future__ import annotations

import importlib

from integration import job_catalog


def test_every_job_name_is_an_importable_job_function():
    names = {key: value for key, value in vars(job_catalog).items() if key.isupper() and isinstance(value, str)}
    assert len(names) >= 25
    for constant, dotted in names.items():
        module, _, function = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function, None)), constant
