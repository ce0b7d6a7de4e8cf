# Two commands do everything on a fresh Debian machine with the .NET SDK:
#   make demo   - install what is missing, build, run the multi-rank demo
#   make test   - install what is missing, build, run every test (C# and Python)
SHELL := /bin/bash
CONFIG ?= Release

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@dotnet build PyMpiBridge.sln -c $(CONFIG) --nologo -v q \
	  | { grep -vE '^\s*$$|^Build succeeded\.$$|^\s+0 (Warning|Error)\(s\)$$|^Time Elapsed' || true; }; test $${PIPESTATUS[0]} -eq 0
	@# the ReadyToRun copy ranks start from: made here, not by the first ./pympi call inside a timed test
	@./pympi --help >/dev/null

test: build
	@scripts/run-tests.sh

demo: build
	@./pympi demo

bench: build
	@./pympi bench all

clean:
	rm -rf artifacts
