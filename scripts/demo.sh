#!/usr/bin/env bash
# `make demo`: a short tour of the recorded market the project carries (data/binance, see data/SOURCES.md).
set -euo pipefail
tranche=${1:-build/bin/tranche}
data=data/binance
step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

step "$tranche" md stats $data/spot/ethusdt_20240808.gz
step "$tranche" md book $data/spot/ethusdt_20240808.gz --at 2024-08-08T23:57:00Z --depth 5
step "$tranche" md book $data/usdm/ethusdt_20240808.gz --at 2024-08-08T23:57:00Z --depth 5
step "$tranche" md book $data/cm/ethusd_perp_20240808.gz --at 2024-08-08T23:57:00Z --depth 5
out=$(mktemp -d)/eth-three-markets.trmd
step "$tranche" md convert $data/spot/ethusdt_20240808.gz $data/usdm/ethusdt_20240808.gz $data/cm/ethusd_perp_20240808.gz -o "$out"
step "$tranche" md stats "$out"
# The same recordings as a simulated three-venue market (config/default.toml, docs/simulator.md).
step "$tranche" sim run
journal=$(mktemp -d)/demo.journal
step "$tranche" sim order --venue binance-spot --side buy --qty 50 --at 2024-08-08T23:55:00Z --journal "$journal"
step "$tranche" sim order --venue binance-usdm --side buy --qty 5 --type limit --price 2683.00 --at 2024-08-08T23:55:00Z --cancel-after 30s
step "$tranche" journal "$journal"
step "$tranche" journal "$journal" verify
echo >&2
echo "Execution commands (tranche execute, backtest, serve) are not built yet: see ARCHITECTURE.md." >&2
