"""A refusal over the API: nothing was done, and the body says why in the
words the console shows. 409: the fleet or the row is not in a state that
allows it (a refusal of start.py, cancel.py, a build or a push); 400: what
was sent is not valid (the console's forms, or the API's own types, said
no). Every refusal's body is {"detail": "..."}, as the schema says."""
from django.core.exceptions import NON_FIELD_ERRORS
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings


def conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


def invalid(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)


def form_errors(form) -> str:
    """A form's errors as one line, each field named as the API names it."""
    return _line(form.errors)


def exception_handler(exc, context):
    """DRF's, but a refused input ({"field": ["why"]} there) is one line in
    `detail` like every other refusal, so a pipeline reads one shape."""
    # Imported here: rest_framework.views loads the settings, which name
    # api.permissions.ConsoleRole, whose module imports this one.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        response.data = {"detail": _line(exc.detail)}
    return response


def _line(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(_line(value) if field in (NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY)
                         else f"{field}: {_line(value)}" for field, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_line(error) for error in errors)
    return str(errors)
