"""API tokens are knox's AuthToken rows: the SHA-512 digest of the token and
its first characters (for lookup), never the token itself. This proxy only
gives them their name in the console and a label free of any secret."""
from django.utils import timezone
from knox.models import AuthToken


class ApiToken(AuthToken):
    class Meta:
        proxy = True
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    @property
    def label(self) -> str:
        """The digest's start: names the token in lists and the admin's log
        without showing any part of the token (its owner can compute it:
        the SHA-512 of the token)."""
        return self.digest[:12]

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()

    def __str__(self):
        return f"API token {self.label} of {self.user.get_username()}"
