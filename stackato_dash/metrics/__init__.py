"""The Prometheus endpoint (/metrics): what the fleet, its rollouts and the
job system look like, read from the database and Redis at scrape time."""
