"""JSON for every job payload we write.

JSON rather than RQ's default pickle: anyone who can write to Redis could otherwise make a worker
run arbitrary code. One exception is read: RQ 3.0's cron scheduler (``jobs.cron_runner``) builds its
``Queue`` without the configured serializer, so the jobs it enqueues are pickled. Those payloads
are only a function name and empty arguments, so they are read with an unpickler that refuses
every global (the restriction the Python docs recommend), which makes them as inert as JSON.
"""

from __future__ import annotations

import io
import json
import pickle
from typing import Any


class _InertUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a job payload")


class JobSerializer:
    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    @staticmethod
    def loads(data: bytes) -> Any:
        if data[:1] == b"\x80":  # pickle protocol marker: a cron-enqueued job
            return _InertUnpickler(io.BytesIO(data)).load()
        return json.loads(data)
