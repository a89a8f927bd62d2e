"""Jobs take primary keys only (issue 12): the queue stores JSON, so a UUID
travels as a string and anything else (a model instance, a request) is
refused when it is enqueued, not when a worker fails to read it.
(tests/integration/test_rq_security.py checks what lands in Redis.)"""
import uuid

import pytest

from stackato_dash import queueing


def test_primary_keys_pass_and_anything_else_is_refused():
    assert queueing.primary_keys((1, "2f916a17-f43b-4fdf-ac32-324c9cab6a9e")) == (1, "2f916a17-f43b-4fdf-ac32-324c9cab6a9e")
    for bad in (uuid.uuid4(), object(), {"pk": 1}, True, 1.5, None):
        with pytest.raises(TypeError, match="primary keys"):
            queueing.primary_keys((bad,))

