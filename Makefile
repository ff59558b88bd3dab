# Every target installs what it needs first. The virtual environment is made from the Lambda runtime's Python
# (infra/package.py's PYTHON_VERSION): the handlers run on it in the embedded stack's containers, the tests run on it,
# and `make build` compiles the zips' bytecode with it. PYTHON is the first of these that runs as that version: a
# pyenv shim for a version that is not active is on PATH but fails to run, so each is run, not just looked up.
PYTHON_VERSION := 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON_CANDIDATES := python$(PYTHON_VERSION) $(sort $(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION))) \
	$(sort $(wildcard $(HOME)/.local/share/uv/python/cpython-$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION)))
ifndef PYTHON
PYTHON := $(firstword $(foreach candidate,$(PYTHON_CANDIDATES),$(shell $(candidate) -c \
	'import sys; print("$(candidate)" if "%d.%d" % sys.version_info[:2] == "$(PYTHON_VERSION)" else "")' 2>/dev/null)))
endif
VENV := .venv
PY := $(VENV)/bin/python
# Named by the Python version too: an environment made from another Python is made again, not reused.
STAMP := $(VENV)/.installed-py$(PYTHON_VERSION)-$(shell cat requirements/dev.lock requirements/bootstrap.lock pyproject.toml | cksum | cut -d" " -f1)
RUN_STAMP := $(VENV)/.installed-run-py$(PYTHON_VERSION)-$(shell cat requirements/run.lock requirements/bootstrap.lock pyproject.toml | cksum | cut -d" " -f1)
BOOTSTRAP := $(VENV)/.bootstrapped-py$(PYTHON_VERSION)

.PHONY: install install-run run reset routes test lint format build bench coldstart lock localstack-up deploy-local \
	integration destroy-local clean fuzz admin

# Everything (tests, lint, Pulumi, benchmarks): requirements/dev.lock.
install: $(STAMP)

# Only what `make run` needs (requirements/run.lock, a subset of dev.lock at the same versions): no Pulumi SDKs,
# no test tools, so a fresh clone serves its first request in well under a minute.
install-run: $(RUN_STAMP)

# uv installs the hash-pinned locks (pip 23 refuses locks whose dependencies ask for extras, e.g. coverage[toml]),
# in parallel and showing its progress; pip only bootstraps uv itself. It compiles the bytecode once, at install:
# where PYTHONDONTWRITEBYTECODE is set (CI images, this project's machine), every start of the stack and of each
# Lambda container would otherwise compile moto, botocore and Powertools again (`make run` started in 5.6 s, not 2.3).
# Made once per Python version, when missing (a new bootstrap.lock takes `make clean`): its date must not trigger
# reinstalls. A .venv/ without this Python version's mark (made from another Python) is removed and made again.
$(BOOTSTRAP):
	@test -n "$(PYTHON)" || { printf '%s\n' "Python $(PYTHON_VERSION) not found (the Lambda runtime's version; tried: $(PYTHON_CANDIDATES))." \
		"Install it, then run make again:" \
		"  Debian 13 / Ubuntu 25.04+: sudo apt-get install python$(PYTHON_VERSION) python$(PYTHON_VERSION)-venv" \
		"  older Ubuntu:              sudo add-apt-repository ppa:deadsnakes/ppa && sudo apt-get install python$(PYTHON_VERSION) python$(PYTHON_VERSION)-venv" \
		"  macOS:                     brew install python@$(PYTHON_VERSION)" \
		"  pyenv:                     pyenv install $(PYTHON_VERSION)   (no need to make it global: make finds it)" \
		"  uv:                        uv python install $(PYTHON_VERSION)" \
		"or name one: make PYTHON=/path/to/python$(PYTHON_VERSION)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")' 2>/dev/null || { \
		echo "PYTHON=$(PYTHON) is not a working Python $(PYTHON_VERSION) (the Lambda runtime's version): make PYTHON=/path/to/python$(PYTHON_VERSION)"; exit 1; }
	@if [ -e $(VENV) ]; then echo "$(VENV)/ was not made from Python $(PYTHON_VERSION): making it again"; rm -rf $(VENV); fi
	@echo "Creating $(VENV)/ with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@echo "Installing uv into $(VENV)/ (requirements/bootstrap.lock)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.lock
	@touch $@

$(STAMP): requirements/dev.lock requirements/run.lock pyproject.toml | $(BOOTSTRAP)
	@echo "Installing everything for tests and deploys (requirements/dev.lock)"
	$(VENV)/bin/uv pip install --python $(PY) --require-hashes --compile-bytecode -r requirements/dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $@ $(RUN_STAMP)

$(RUN_STAMP): requirements/run.lock pyproject.toml | $(BOOTSTRAP)
	@echo "Installing what the local stack needs (requirements/run.lock)"
	$(VENV)/bin/uv pip install --python $(PY) --require-hashes --compile-bytecode -r requirements/run.lock
	@rm -f $(VENV)/.installed-run-*
	@touch $@

# Serves the whole API (README.md); its data lives in .local-stack/ across restarts (STACK_STATE_DIR=... for another
# folder: one stack per folder, a second `make run` on a held one refuses to start).
run: install-run
	$(PY) -m embedded_stack

# Forgets the local stack's data: the next `make run` starts empty (new user pool, ids and signing key).
reset:
	rm -rf "$${STACK_STATE_DIR:-.local-stack}"

# Every route, read from the functions' resolvers (the same list API Gateway and the embedded stack serve).
routes: install
	@$(PY) -c "from lambdas.catalog import route_table; print(route_table())"

# ruff, then the import contracts of lambdas/ (pyproject.toml, [tool.importlinter]; docs/development.md, "Layers").
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Unit tests, then integration tests against the embedded stack, with one branch-coverage figure over both.
test: lint
	@rm -f .coverage .coverage.*
	$(PY) -m pytest unit_tests -n auto --dist loadfile --cov --cov-report= --cov-fail-under=0
	$(PY) -m pytest integration_tests --cov --cov-append --cov-report=term --cov-fail-under=90

# Schemathesis over the OpenAPI document with a larger budget than `make test` gives it (25 examples per operation).
FUZZ_EXAMPLES ?= 200
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest integration_tests/test_openapi_fuzz.py

# Every bench/<topic>.py, one table, bench/results/latest.json (docs/benchmarks.md). Not part of `make test`.
bench: install
	$(PY) -m bench

# Each function's cold start from its unpacked x86_64 zip against a bare boto3 handler (docs/benchmarks.md).
coldstart: install
	$(PY) -m bench.coldstart

# Re-pin every dependency (needs the network): the dev environment, the local stack's subset of it (at the same
# versions), and what the Lambda zips ship.
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --generate-hashes --python-version $(PYTHON_VERSION) \
		--universal -o requirements/dev.lock -q
	$(VENV)/bin/uv pip compile pyproject.toml --extra run --constraint requirements/dev.lock --generate-hashes \
		--python-version $(PYTHON_VERSION) --universal -o requirements/run.lock -q
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version $(PYTHON_VERSION) --universal -o requirements/lambda.lock -q

# One deterministic zip per catalog function, for arm64 and x86_64, under build/<arch>/ (README.md, "Deploying").
# `make build LAMBDA_ARCH=arm64` builds one architecture only.
build: install
	$(PY) -m infra.package $(if $(LAMBDA_ARCH),--arch $(LAMBDA_ARCH))

# The LocalStack path (README.md, "Deploying"): needs Docker, the Pulumi CLI and a LocalStack auth token.
localstack-up:
	@command -v docker >/dev/null || { echo "docker not found: install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/)"; exit 1; }
	@docker compose version >/dev/null 2>&1 || { echo "docker compose v2 not found: install the Compose plugin (https://docs.docker.com/compose/install/)"; exit 1; }
	@test -n "$$LOCALSTACK_AUTH_TOKEN" || { echo "LOCALSTACK_AUTH_TOKEN is not set: export LOCALSTACK_AUTH_TOKEN=... (https://app.localstack.cloud/workspace/auth-token)"; exit 1; }
	docker compose -f docker-compose.localstack.yml up -d --wait

deploy-local: build
	@command -v pulumi >/dev/null || { echo "pulumi not found: curl -fsSL https://get.pulumi.com | sh, then pulumi login --local"; exit 1; }
	@pulumi whoami >/dev/null 2>&1 || { echo "not logged in to a Pulumi backend: pulumi login --local"; exit 1; }
	@curl -fsS http://localhost:4566/_localstack/health >/dev/null || { echo "LocalStack is not answering on localhost:4566: make localstack-up"; exit 1; }
	export PULUMI_CONFIG_PASSPHRASE="$${PULUMI_CONFIG_PASSPHRASE-}"; \
		pulumi stack select dev --create --non-interactive && pulumi up --stack dev --yes --non-interactive

integration: install
	@command -v pulumi >/dev/null || { echo "pulumi not found: curl -fsSL https://get.pulumi.com | sh, then pulumi login --local"; exit 1; }
	@mkdir -p .local-stack
	export PULUMI_CONFIG_PASSPHRASE="$${PULUMI_CONFIG_PASSPHRASE-}"; \
		pulumi stack output --json --stack dev > .local-stack/pulumi-outputs.json
	STACK_OUTPUTS=.local-stack/pulumi-outputs.json $(PY) -m pytest integration_tests

# `docker compose down` interpolates the whole file too, and the file requires the token: stopping needs none.
destroy-local:
	@command -v pulumi >/dev/null || { echo "pulumi not found: curl -fsSL https://get.pulumi.com | sh, then pulumi login --local"; exit 1; }
	@command -v docker >/dev/null || { echo "docker not found: install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/)"; exit 1; }
	export PULUMI_CONFIG_PASSPHRASE="$${PULUMI_CONFIG_PASSPHRASE-}"; \
		pulumi destroy --stack dev --yes --non-interactive
	LOCALSTACK_AUTH_TOKEN="$${LOCALSTACK_AUTH_TOKEN:-unused-by-down}" docker compose -f docker-compose.localstack.yml down

clean:
	rm -rf $(VENV) build .local-stack .coverage .coverage.*

# Adds EMAIL to the admins group on the running embedded stack (`make run`); docs/api.md has the AWS CLI command.
admin: install
	$(PY) -m embedded_stack.admin "$(EMAIL)"
