# Entry points. The work is done by the scripts in scripts/, one job each;
# variables given on the command line (make demo DEMO_WEB_PORT=8001) reach
# them as environment variables. See .env.example for every setting.
SHELL := /bin/bash

.PHONY: help demo demo-stop test install

help:
	@echo "make demo       install what is missing, start Redis, RQ workers, the sandbox"
	@echo "                cluster and the web server; print URL and credentials (root)"
	@echo "make demo-stop  stop everything make demo started"
	@echo "make test       install, start Redis and PostgreSQL, run the suite on SQLite"
	@echo "                and on PostgreSQL (root)"
	@echo "make install    only install the Debian packages and the virtualenv"

demo:
	@bash scripts/demo.sh

demo-stop:
	@bash scripts/demo-stop.sh

test:
	@bash scripts/test.sh

install:
	@bash scripts/install.sh
