import pickle

import pytest

from integration.job_serializer import JobSerializer


def test_json_round_trip():
    payload = ["jobs.events.process_event", None, [42], {}]
    assert JobSerializer.loads(JobSerializer.dumps(payload)) == payload
    assert JobSerializer.dumps(payload).startswith(b"[")


def test_cron_pickles_without_globals_are_read():
    data = pickle.dumps(("jobs.events.sweep_stale_events", None, (), {}), protocol=pickle.HIGHEST_PROTOCOL)
    assert JobSerializer.loads(data) == ("jobs.events.sweep_stale_events", None, (), {})


def test_pickles_that_reference_globals_are_refused():
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        JobSerializer.loads(pickle.dumps(Evil(), protocol=pickle.HIGHEST_PROTOCOL))
