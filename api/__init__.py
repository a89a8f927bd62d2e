"""The token-authenticated JSON API (README: API): the console's operations
for pipelines, through the functions the admin actions and the commands call."""
