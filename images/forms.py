"""Forms: bad input is a form error with a reason, never a traceback."""
from django import forms
from django.core.exceptions import ValidationError

from images import name_collisions, registry
from images.models import ImageVersion
from nodes.models import Cluster


class ImageVersionForm(forms.ModelForm):
    class Meta:
        model = ImageVersion
        fields = ["cluster", "repository", "tag", "parent", "from_reference", "cmd", "release_notes"]

    def clean(self):
        data = super().clean()
        cluster, parent = data.get("cluster"), data.get("parent")
        if parent is not None and "parent" in self.fields:
            if cluster is not None and parent.cluster_id != cluster.pk:
                self.add_error("parent", "The parent must be a version of the same cluster.")
            elif not parent.image_id:
                self.add_error("parent", f"{parent} is not built yet: nothing can be built FROM it.")
            elif not data.get("from_reference"):
                data["from_reference"] = parent.pull_reference
        frozen = "from_reference" not in self.fields  # read-only once built
        if not (frozen or data.get("from_reference") or "from_reference" in self.errors or "parent" in self.errors):
            self.add_error("from_reference", "Give the image to build FROM, or a built parent version.")
        self._refuse_name_in_use(data)
        self._refuse_tag_in_registry(data)
        return data

    def _refuse_name_in_use(self, data):
        cluster, repository, tag = data.get("cluster"), data.get("repository"), data.get("tag")
        if not (cluster and repository and tag) or self.errors:
            return
        why = name_collisions.collision(cluster, name_collisions.names_of(cluster, repository, tag),
                                        self.instance if self.instance.pk else None)
        if why:
            self.add_error("tag", why)

    def _refuse_tag_in_registry(self, data):
        """A tag the registry already holds (pushed by hand, or by another
        console) is refused too: pushing would overwrite it."""
        cluster, repository, tag = data.get("cluster"), data.get("repository"), data.get("tag")
        if not (cluster and cluster.registry and repository and tag) or self.errors:
            return
        if self.instance.pk and (self.instance.repository, self.instance.tag) == (repository, tag):
            return
        ours = ImageVersion.objects.filter(cluster=cluster, repository=repository, tag=tag).exclude(pk=self.instance.pk)
        if ours.exists():
            return  # the unique constraint says so, naming our own version
        try:
            digest = registry.manifest_digest(cluster.registry, repository, tag)
        except registry.RegistryError:
            return  # not known now; the push asks again before pushing
        if digest:
            raise ValidationError({"tag": f"The registry {cluster.registry} already holds {repository}:{tag} "
                                          f"({digest[:19]}...). Tags are immutable: choose a new tag."})


class ClusterChoiceForm(forms.Form):
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.all())
