# Every target installs what it needs first. PYTHON picks the interpreter the virtual environment is made from.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint format build bench lock localstack-up deploy-local integration destroy-local clean

install: $(STAMP)

$(STAMP): requirements/dev.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(PY) -m embedded_stack

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Unit tests, then integration tests against the embedded stack, with one branch-coverage figure over both.
test: lint
	@rm -f .coverage .coverage.*
	$(PY) -m pytest unit_tests --cov --cov-report=
	$(PY) -m pytest integration_tests --cov --cov-append --cov-report=term --cov-fail-under=90

bench: install
	$(PY) -m bench

# Re-pin every dependency (needs the network): the dev environment and what the Lambda zips ship.
lock: install
	$(VENV)/bin/pip install --quiet uv==0.13.8
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--universal -o requirements/dev.lock -q
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --universal -o requirements/lambda.lock -q

clean:
	rm -rf $(VENV) build .local-stack .coverage .coverage.*
