# The README's two commands: `make demo` and `make test`. Each one creates or
# updates .venv from constraints.txt first, so each works alone on a fresh machine.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.zspace-installed

.PHONY: install demo test lint format bench screenshots mutate clean-demo

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/zspace demo

test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.complexity

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/zspace bench all

screenshots: install
	$(BIN)/python -m tools.screenshots

# Mutation testing (docs/TESTING.md), not part of `make test`: PKG=analysis for one package,
# MODULE=analysis.density for one module, SURVIVORS=1 to retry only last run's survivors.
mutate: install
	$(BIN)/python -m tools.mutate $(PKG) $(MODULE) $(if $(SURVIVORS),--survivors)

clean-demo:
	rm -rf data/runs/demo-ae data/runs/demo-vae data/cache
