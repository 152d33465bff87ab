#!/usr/bin/env bash
# Installs what Tranche builds and tests with: Debian packages (apt-get), the report's and the blotter's charting
# library (npm, pinned by report/package-lock.json), the API tests' WebSocket client, schema checker and browser
# driver (npm, tests/api/package-lock.json) and jspurefix (npm, pinned by fix/package-lock.json: the base of our FIX
# dictionary, and the independent FIX engine the tests talk to). Idempotent and quiet when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libsimdjson-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  zlib1g-dev libzstd-dev libsqlite3-dev
  libquickfix-dev  # FIX sessions (tranche serve); its FIX44.xml comes from jspurefix (npm, fix/)
  libboost-dev libssl-dev openssl  # the crypto venues: HTTPS and WebSocket on Beast/Asio over OpenSSL
  chromium  # the HTML report's test opens it headless
  prometheus-cpp-dev  # /metrics: Prometheus's data model and text format
  prometheus  # the metrics test scrapes the daemon with a real Prometheus (and promtool checks the format)
  clang-14 libclang-rt-14-dev  # `make fuzz`: libFuzzer with ASan and UBSan
)
# Node and npm: the machine's own when present (node 20 here), else Debian's.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f "$root/report/node_modules/uplot/dist/uPlot.iife.min.js" ]; then
  echo "install-deps: npm ci in report/ (the report's charting library)" >&2
  (cd "$root/report" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
if [ ! -f "$root/tests/ccxt/node_modules/ccxt/package.json" ]; then
  echo "install-deps: npm ci in tests/ccxt/ (ccxt: the independent Binance client of the tests)" >&2
  (cd "$root/tests/ccxt" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
if [ ! -f "$root/tests/api/node_modules/playwright-core/package.json" ]; then
  echo "install-deps: npm ci in tests/api/ (ws, ajv, playwright-core: the HTTP API's and the blotter's tests)" >&2
  (cd "$root/tests/api" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
if [ ! -f "$root/fix/node_modules/jspurefix/data/FIX44.xml" ]; then
  echo "install-deps: npm ci in fix/ (jspurefix: the FIX dictionary and the FIX peer of the tests)" >&2
  (cd "$root/fix" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
