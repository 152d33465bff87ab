# The algos as a user runs them: `tranche execute --algo X --param K=V` on the bundled market (the order
# finished, the journal holding the algo's decisions, the same bytes for the same seed), and
# `tranche backtest --grid` on a small grid (table, JSON, HTML), with one-line errors on bad input.
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/e2e_common.cmake)

foreach(algo twap vwap pov is iceberg peg)
  file(REMOVE ${WORK}/${algo}.journal ${WORK}/${algo}.journal-wal ${WORK}/${algo}.journal-shm)
  run(${TRANCHE} execute --side sell --qty 40 --algo ${algo} --start 2024-08-08T23:55:00Z
      --param randomize=0.3 --param seed=5 --json --journal ${WORK}/${algo}.journal)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "execute --algo ${algo} failed (${rc}): ${err}")
  endif()
  string(JSON state GET "${out}" parent state)
  string(JSON ratio GET "${out}" tca fill_ratio)
  string(JSON algo_key GET "${out}" tca by_algo 0 key)
  if(NOT state STREQUAL "filled" OR ratio LESS 0.99 OR NOT algo_key STREQUAL "${algo}")
    message(FATAL_ERROR "execute --algo ${algo}: unexpected result ${out}")
  endif()
  set(first "${out}")
  run(${TRANCHE} execute --side sell --qty 40 --algo ${algo} --start 2024-08-08T23:55:00Z
      --param randomize=0.3 --param seed=5 --json)
  if(NOT out STREQUAL first)
    message(FATAL_ERROR "execute --algo ${algo}: the same seed gave different results")
  endif()
  run(${TRANCHE} journal ${WORK}/${algo}.journal verify)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "journal verify after ${algo} (${rc}): ${out} ${err}")
  endif()
endforeach()

# Bad parameters: one line, non-zero, nothing run.
foreach(case
    "twap;speed=fast;unknown algo parameter 'speed'"
    "pov;pov_rate=3;pov_rate = 3 is outside"
    "twap;urgency;is not KEY=VALUE"
    "iceberg;display=-1;display = -1 is outside")
  list(GET case 0 algo)
  list(GET case 1 param)
  list(GET case 2 expected)
  run(${TRANCHE} execute --side buy --qty 5 --algo ${algo} --param ${param})
  string(STRIP "${err}" err)
  if(rc EQUAL 0 OR NOT err MATCHES "${expected}" OR err MATCHES "\n")
    message(FATAL_ERROR "bad --param ${param}: rc ${rc}, '${err}'")
  endif()
endforeach()

# A small grid through `tranche backtest`.
file(WRITE ${WORK}/grid.toml "[backtest]\nalgos = [\"market\", \"twap\"]\nsizes = [\"1x\", \"20\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\"]\nsides = [\"buy\", \"sell\"]\n[backtest.params.twap]\nrandomize = \"0\"\n")
file(REMOVE ${WORK}/grid.html)
run(${TRANCHE} backtest --grid ${WORK}/grid.toml --json --html ${WORK}/grid.html --threads 2)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "backtest failed (${rc}): ${err}")
endif()
string(JSON nruns LENGTH "${out}" runs)
string(JSON nsummary LENGTH "${out}" summary)
string(JSON vs GET "${out}" summary 1 vs_market_bps)
if(NOT nruns EQUAL 8 OR NOT nsummary EQUAL 4 OR vs STREQUAL "null" OR NOT EXISTS ${WORK}/grid.html)
  message(FATAL_ERROR "backtest: unexpected result ${out}")
endif()
run(${TRANCHE} backtest --grid ${WORK}/grid.toml --threads 1)
if(NOT rc EQUAL 0 OR NOT out MATCHES "vs market bps" OR NOT out MATCHES "twap")
  message(FATAL_ERROR "backtest table (${rc}): ${out} ${err}")
endif()
file(WRITE ${WORK}/bad-grid.toml "[backtest]\nalgos = [\"twop\"]\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\"]\n")
run(${TRANCHE} backtest --grid ${WORK}/bad-grid.toml)
string(STRIP "${err}" err)
if(rc EQUAL 0 OR NOT err MATCHES "unknown algo 'twop'" OR err MATCHES "\n")
  message(FATAL_ERROR "bad grid: rc ${rc}, '${err}'")
endif()
