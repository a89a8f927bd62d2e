"""A refusal over the API: nothing was done, and the body says why in the
words the console shows. 409: the fleet or the row is not in a state that
allows it (a refusal of start.py, cancel.py, a build or a push); 400: what
was sent is not valid (the console's forms said no)."""
from rest_framework import status
from rest_framework.response import Response


def conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


def invalid(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)


def form_errors(form) -> str:
    """A form's errors as one line, each field named as the API names it."""
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
