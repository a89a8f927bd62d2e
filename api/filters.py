"""The lists' query filters: a value no row can have is a 400 naming the
values that can (an empty list would read as "nothing there")."""
from rest_framework.exceptions import ValidationError


def one_of(name: str, value: str, values: list[str]) -> str:
    if value not in values:
        raise ValidationError({name: f"One of {', '.join(values)}."})
    return value
