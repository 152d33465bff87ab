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

# The main job: one parent order through the whole product (risk, OMS and journal, the venues), and what it cost.
mkdir -p reports
rm -f reports/demo-execute.journal reports/demo-execute.journal-wal reports/demo-execute.journal-shm
step "$tranche" execute --side buy --qty 200 --instrument ETH-USDT --algo market --start 2024-08-08T23:56:00Z \
  --journal reports/demo-execute.journal --html reports/demo-execute.html

# The same 200 ETH worked over two minutes by a TWAP (slices resting passively, catching up when behind), with the
# algo's decisions as it journaled them.
rm -f reports/demo-twap.journal reports/demo-twap.journal-wal reports/demo-twap.journal-shm
step "$tranche" execute --side buy --qty 200 --instrument ETH-USDT --algo twap --start 2024-08-08T23:56:00Z \
  --journal reports/demo-twap.journal --html reports/demo-twap.html
"$tranche" journal reports/demo-twap.journal decisions --parent 1 > reports/demo-twap-decisions.txt
echo "The first of its journaled decisions (all: reports/demo-twap-decisions.txt):" >&2
sed -n '1,4p' reports/demo-twap-decisions.txt | cut -c1-160
echo >&2
echo "The execution reports are at $(pwd)/reports/demo-execute.html and demo-twap.html (open them in a browser)." >&2
echo "Compare every algo on the recorded market: $tranche backtest --grid grids/default.toml (about a minute)." >&2
echo "Parent orders over FIX: build/bin/tranche serve, then node examples/fix_client/send_parent.js (README, docs/serve.md)." >&2
echo >&2
echo "The blotter: run  $tranche serve  and open http://127.0.0.1:9880/ in a browser; sign in with the token" >&2
echo "demo-trader (or demo-viewer, demo-admin), submit a TWAP from the form and watch it fill. The same parents over" >&2
echo "the HTTP API: curl -H 'Authorization: Bearer demo-viewer' http://127.0.0.1:9880/api/v1/parents (docs/api.md)." >&2
