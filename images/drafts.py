"""A draft image version from FROM (or a built parent), RUN lines and CMD,
through the admin's own form (images/forms.py): the same checks whoever
asks. `manage.py image new` and the API's "new draft" both call it."""
import json

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from images.dockerfile import DockerfileError, default_cmd
from images.forms import ImageVersionForm
from images.models import ImageVersion, RunStep


class DraftRefused(Exception):
    """Nothing was created; the message says why."""


def create_draft(user, *, cluster, repository: str, tag: str, from_reference: str = "", parent="",
                 run: list[str] = (), cmd: str = "", notes: str = "") -> ImageVersion:
    """cmd: CMD as a JSON list (the product's default when empty). The form
    refuses a tag already taken in the console or the registry, bad names,
    and a version with neither FROM nor a built parent."""
    form = ImageVersionForm({
        "cluster": cluster.pk, "repository": repository, "tag": tag, "parent": parent,
        "from_reference": from_reference, "cmd": cmd or json.dumps(default_cmd()), "release_notes": notes})
    if not form.is_valid():
        # A field's errors after its name; the form's own (a taken tag) alone.
        raise DraftRefused("Nothing was created. " + "; ".join(
            " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
            for field, messages in form.errors.items()))
    with transaction.atomic():
        version = form.save(commit=False)
        version.created_by, version.created_by_username = user, user.get_username()
        version.save()
        for position, command in enumerate(run):
            step = RunStep(version=version, position=position, command=command)
            try:
                step.full_clean()
            except ValidationError as error:
                raise DraftRefused(f"Nothing was created. RUN {command!r}: {' '.join(error.messages)}") from None
            step.save()
        try:
            version.dockerfile = version.render_dockerfile()
        except DockerfileError as error:
            raise DraftRefused(f"Nothing was created. {error}") from None
        version.save(update_fields=["dockerfile"])
    return version
