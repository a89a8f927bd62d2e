from api import token_admin  # noqa: F401  registers the API tokens' admin
