# Every target installs what it needs: a fresh clone needs only python3 (3.11+), node and npm.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Run the pinned CDK CLI with the project's Python first on PATH (cdk.json runs `python -m infra.app`).
CDK := PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk

export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# These machines run Node 20, past its end of life: silence jsii's banner (see docs/infra.md).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test synth deploy lint format bench sizes model eval-detection cost clean

$(PY_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## demo: the whole monitoring loop on the embedded local AWS (moto) against a platform simulator
demo: $(PY_STAMP)
	$(BIN)/crisiswatch demo

## test: unit, integration (moto), infra (CDK + cdk-nag) and end-to-end tests
test: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/pytest

## synth: the CloudFormation template, with the Lambda layers really built (no Docker needed)
synth: $(PY_STAMP) $(NODE_STAMP)
	$(CDK) synth --quiet

## deploy: deploy to the AWS account of your credentials (see README: context settings)
deploy: $(PY_STAMP) $(NODE_STAMP)
	$(CDK) deploy

## bench: scorer throughput vs the naive SnowNLP call, cold start and layer size, on one core
bench: $(PY_STAMP)
	$(BIN)/python -m tools.scoring.bench

## eval-detection: docs/detection.md's figures on ../shared/data (CED, about 25 minutes on 2 cores)
SHARED := ../shared/data
EVAL := build/eval
eval-detection: $(PY_STAMP)
	@test -d $(SHARED)/streams/ced || { echo "needs $(SHARED) (the development data)"; exit 2; }
	mkdir -p $(EVAL)
	$(BIN)/crisiswatch eval background --events $(SHARED)/streams/ced/events.csv.gz \
	  --posts $(SHARED)/streams/ced/posts.csv.gz --sentiment-dir $(SHARED)/sentiment \
	  --max-cascade-posts 200 --reviews-per-file 3000 --out $(EVAL)/background.csv.gz
	$(BIN)/crisiswatch eval detection --events $(SHARED)/streams/ced/events.csv.gz \
	  --posts $(SHARED)/streams/ced/posts.csv.gz --out $(EVAL)/ced.jsonl
	$(BIN)/crisiswatch eval detection --events $(SHARED)/streams/ced/events.csv.gz \
	  --posts $(SHARED)/streams/ced/posts.csv.gz --background $(EVAL)/background.csv.gz \
	  --background-rate 1000 --warmup-days 14 --out $(EVAL)/ced-1000.jsonl
	for rate in 200 1000 5000; do $(BIN)/crisiswatch eval detection --chatter-only --days 14 \
	  --watches 8 --background $(EVAL)/background.csv.gz --background-rate $$rate --warmup-days 14 \
	  --out $(EVAL)/chatter-$$rate.jsonl; done

## sizes: per function, code asset and layer sizes (unzipped/zipped), handler import time; last line JSON
sizes: $(PY_STAMP)
	$(BIN)/python -m tools.package_report

## cost: $ per million stored posts, by service, metered on a replay on the embedded AWS (the dev data when ../shared is there, else a generated recording); last line JSON
cost: $(PY_STAMP)
	$(BIN)/python -m tools.cost

## model: retrain the sentiment model from ../shared/data/sentiment (writes functions/crisiswatch/scoring/data/)
model: $(PY_STAMP)
	$(BIN)/crisiswatch train-sentiment --data-dir ../shared/data/sentiment

lint: $(PY_STAMP)
	$(BIN)/ruff check functions infra layers tests tools
	$(BIN)/ruff format --check functions infra layers tests tools

format: $(PY_STAMP)
	$(BIN)/ruff check --fix functions infra layers tests tools
	$(BIN)/ruff format functions infra layers tests tools

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache
