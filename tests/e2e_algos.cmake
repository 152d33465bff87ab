# The algos as a user runs them: `tranche execute --algo X --param K=V` on the bundled market (the order
# finished, the journal holding the algo's decisions, the same bytes for the same seed), and
# `tranche backtest --grid` on a small grid (table, JSON, HTML), with one-line errors on bad input.
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/e2e_common.cmake)

foreach(algo twap vwap pov is iceberg peg seek)
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
    "iceberg;display=-1;display = -1 is outside"
    "seek;seek_size=0.5;seek_size = 0.5 is outside"
    "pov;end_share=2;end_share = 2 is outside")
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
# Variants: each algo run under each, compared pair by pair with the first (the book signals off and on).
file(WRITE ${WORK}/variants.toml "[backtest]\nalgos = [\"market\", \"twap\"]\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\", \"2024-08-08T23:56:00Z\"]\nsides = [\"buy\", \"sell\"]\n[[backtest.variants]]\nname = \"off\"\nparams = { signals = \"off\" }\n[[backtest.variants]]\nname = \"on\"\nparams = { signals = \"on\" }\n")
run(${TRANCHE} backtest --grid ${WORK}/variants.toml --json --threads 2)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "backtest with variants failed (${rc}): ${err}")
endif()
string(JSON nruns LENGTH "${out}" runs)
string(JSON variant GET "${out}" summary 2 variant)
string(JSON pairs GET "${out}" summary 2 vs_baseline pairs)
string(JSON baseline GET "${out}" summary 1 vs_baseline)
string(JSON resting GET "${out}" summary 1 resting_share)
# market runs once (4 runs), twap once per variant (8).
if(NOT nruns EQUAL 12 OR NOT variant STREQUAL "on" OR NOT pairs EQUAL 4 OR NOT baseline STREQUAL ""
   OR resting LESS_EQUAL 0)
  message(FATAL_ERROR "backtest with variants: unexpected result ${out}")
endif()
run(${TRANCHE} backtest --grid ${WORK}/variants.toml --threads 2)
if(NOT rc EQUAL 0 OR NOT out MATCHES "against off, pair by pair" OR NOT out MATCHES "rest markout")
  message(FATAL_ERROR "backtest variants table (${rc}): ${out} ${err}")
endif()
foreach(case
    "[[backtest.variants]]\nname = \"alone\"\n;name two or more"
    "[[backtest.variants]]\nname = \"a\"\nparams = { signals = \"maybe\" }\n[[backtest.variants]]\nname = \"b\"\n;signals must be on or off"
    "[[backtest.variants]]\nname = \"a\"\nspeed = 1\n[[backtest.variants]]\nname = \"b\"\n;has no key 'speed'")
  list(GET case 0 variants)
  list(GET case 1 expected)
  file(WRITE ${WORK}/bad-variants.toml "[backtest]\nalgos = [\"twap\"]\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\"]\n${variants}")
  run(${TRANCHE} backtest --grid ${WORK}/bad-variants.toml)
  string(STRIP "${err}" err)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${expected}" OR err MATCHES "\n")
    message(FATAL_ERROR "bad variants: rc ${rc}, '${err}'")
  endif()
endforeach()

# One algo against another, pair by pair (`compare`): seek against twap, the same start and side.
file(WRITE ${WORK}/compare.toml "[backtest]\nalgos = [\"twap\", \"seek\"]\ncompare = \"twap\"\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\", \"2024-08-08T23:56:00Z\"]\nsides = [\"buy\", \"sell\"]\n")
run(${TRANCHE} backtest --grid ${WORK}/compare.toml --json --threads 2)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "backtest with compare failed (${rc}): ${err}")
endif()
string(JSON compared GET "${out}" summary 0 vs_compare)
string(JSON pairs GET "${out}" summary 1 vs_compare pairs)
string(JSON seek_fill GET "${out}" summary 1 fill_ratio)
if(NOT compared STREQUAL "" OR NOT pairs EQUAL 4 OR seek_fill LESS 0.99)
  message(FATAL_ERROR "backtest with compare: unexpected result ${out}")
endif()
run(${TRANCHE} backtest --grid ${WORK}/compare.toml --threads 2)
if(NOT rc EQUAL 0 OR NOT out MATCHES "against twap, pair by pair" OR NOT out MATCHES "seek")
  message(FATAL_ERROR "backtest compare table (${rc}): ${out} ${err}")
endif()
file(WRITE ${WORK}/bad-compare.toml "[backtest]\nalgos = [\"twap\"]\ncompare = \"vwap\"\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\"]\n")
run(${TRANCHE} backtest --grid ${WORK}/bad-compare.toml)
string(STRIP "${err}" err)
if(rc EQUAL 0 OR NOT err MATCHES "compare: 'vwap' is not one of the grid's algos" OR err MATCHES "\n")
  message(FATAL_ERROR "bad compare: rc ${rc}, '${err}'")
endif()

# The pre-trade estimate: every algo's expected cost and risk from the market before the arrival, one
# recommended; the same in JSON; one-line errors on bad input.
run(${TRANCHE} estimate --side buy --qty 120 --horizon 2m --at 2024-08-08T23:55:00Z)
if(NOT rc EQUAL 0 OR NOT out MATCHES "recommended: [a-z]+" OR NOT out MATCHES "binance-coinm"
   OR NOT out MATCHES "\nseek ")
  message(FATAL_ERROR "estimate (${rc}): ${out} ${err}")
endif()
run(${TRANCHE} estimate --side sell --qty 600 --horizon 2m --at 2024-08-08T23:55:00Z --json)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "estimate --json (${rc}): ${err}")
endif()
string(JSON nalgos LENGTH "${out}" algos)
string(JSON first GET "${out}" algos 0 algo)
string(JSON market_risk GET "${out}" algos 0 risk_bps)
string(JSON twap_cost GET "${out}" algos 1 cost_bps)
string(JSON recommended GET "${out}" recommended)
string(JSON auto_chose GET "${out}" auto chose)
string(JSON sigma GET "${out}" market sigma_bps_per_sqrt_s)
if(NOT nalgos EQUAL 7 OR NOT first STREQUAL "market" OR NOT market_risk EQUAL 0 OR twap_cost LESS_EQUAL 0
   OR recommended STREQUAL "" OR sigma LESS_EQUAL 0 OR auto_chose STREQUAL "")
  message(FATAL_ERROR "estimate --json: unexpected result ${out}")
endif()
foreach(case
    "--side;hold;--qty;1;--side must be buy or sell"
    "--side;buy;--qty;-3;--qty must be a positive decimal quantity"
    "--side;buy;--qty;1;--horizon;0s;--horizon must be a duration above 0"
    "--side;buy;--qty;1;--at;2020-01-01T00:00:00Z;is outside the data")
  list(POP_BACK case expected)
  run(${TRANCHE} estimate ${case})
  string(STRIP "${err}" err)
  if(rc EQUAL 0 OR NOT err MATCHES "${expected}" OR err MATCHES "\n")
    message(FATAL_ERROR "estimate ${case}: rc ${rc}, '${err}'")
  endif()
endforeach()

# Each parent's estimate beside its realised cost; --algo auto chooses from the estimate and the evidence of
# past parents (--evidence FILE), which every run adds to; its choice is journaled with the reason.
file(REMOVE ${WORK}/evidence.json ${WORK}/auto.journal ${WORK}/auto.journal-wal ${WORK}/auto.journal-shm)
run(${TRANCHE} execute --side buy --qty 120 --algo twap --start 2024-08-08T23:55:00Z --evidence ${WORK}/evidence.json --json)
string(JSON est_algo GET "${out}" estimate algo)
string(JSON est_cost GET "${out}" estimate cost_bps)
string(JSON est_error GET "${out}" estimate error_bps)
string(JSON realised GET "${out}" tca implementation_shortfall_bps)
if(NOT rc EQUAL 0 OR NOT est_algo STREQUAL "twap" OR est_cost LESS_EQUAL 0 OR NOT EXISTS ${WORK}/evidence.json)
  message(FATAL_ERROR "execute with an estimate (${rc}): ${out} ${err}")
endif()
run(${TRANCHE} estimate --side buy --qty 120 --horizon 2m --at 2024-08-08T23:55:00Z --json)
string(JSON cmd_twap GET "${out}" algos 1 cost_bps)
if(NOT cmd_twap EQUAL est_cost)
  message(FATAL_ERROR "the parent's estimate ${est_cost} is not tranche estimate's ${cmd_twap} for the same moment")
endif()
run(${TRANCHE} execute --side buy --qty 120 --algo auto --start 2024-08-08T23:55:00Z --evidence ${WORK}/evidence.json
    --journal ${WORK}/auto.journal)
if(NOT rc EQUAL 0 OR NOT out MATCHES "auto chose [a-z]+: bucket [^\n]+ past\\)"
   OR NOT out MATCHES "pre-trade estimate \\([a-z]+\\)")
  message(FATAL_ERROR "execute --algo auto (${rc}): ${out} ${err}")
endif()
run(${TRANCHE} journal ${WORK}/auto.journal decisions)
if(NOT out MATCHES "auto: chose=[a-z]+" OR NOT out MATCHES "estimate: algo=[a-z]+ model=")
  message(FATAL_ERROR "journal decisions of auto: ${out} ${err}")
endif()
file(READ ${WORK}/evidence.json evidence)
string(JSON bucket MEMBER "${evidence}" buckets 0)
string(JSON twap_parents GET "${evidence}" buckets "${bucket}" twap parents)
if(NOT twap_parents EQUAL 1)
  message(FATAL_ERROR "the evidence after two runs: ${evidence}")
endif()
file(WRITE ${WORK}/bad-evidence.json "{\"format\": \"tranche-algo-evidence\", \"buckets\": 3}")
foreach(case
    "--param;auto_algos=twap|moonshot;'moonshot' is not one auto may choose"
    "--param;auto_risk_weight=-1;auto_risk_weight must be a number from 0 to 100"
    "--evidence;${WORK}/bad-evidence.json;not a Tranche algo evidence file")
  list(POP_BACK case expected)
  run(${TRANCHE} execute --side buy --qty 10 --algo auto ${case})
  string(STRIP "${err}" err)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${expected}" OR err MATCHES "\n")
    message(FATAL_ERROR "execute --algo auto ${case}: rc ${rc}, '${err}'")
  endif()
endforeach()

# Spot and the perpetual as two instruments (scenarios/eth-spot-perp-2024-08-08.toml): each at its own price,
# the perpetual's benchmark its own venue's mid, not spot's.
set(perp_scenario ${DATA}/../scenarios/eth-spot-perp-2024-08-08.toml)
foreach(instrument ETH-USDT ETH-USDT-PERP)
  run(${TRANCHE} execute --side sell --qty 5 --instrument ${instrument} --algo twap --start 2024-08-08T23:55:00Z
      --scenario ${perp_scenario} --json)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "execute ${instrument} on the spot-perp scenario (${rc}): ${err}")
  endif()
  string(JSON state GET "${out}" parent state)
  string(JSON arrival_${instrument} GET "${out}" tca arrival_price)
  string(JSON benchmark_${instrument} GET "${out}" tca benchmark)
  string(JSON estimate_cost GET "${out}" estimate cost_bps)
  if(NOT state STREQUAL "filled" OR estimate_cost LESS_EQUAL 0)
    message(FATAL_ERROR "execute ${instrument} on the spot-perp scenario: ${out}")
  endif()
endforeach()
if(arrival_ETH-USDT EQUAL arrival_ETH-USDT-PERP OR NOT benchmark_ETH-USDT STREQUAL "binance-spot mid"
   OR NOT benchmark_ETH-USDT-PERP STREQUAL "binance-usdm mid")
  message(FATAL_ERROR "spot ${arrival_ETH-USDT} (${benchmark_ETH-USDT}) and the perpetual ${arrival_ETH-USDT-PERP} "
                      "(${benchmark_ETH-USDT-PERP}) are not two prices on their own venues")
endif()

# The placer's decisions read back with the signals that drove them.
file(REMOVE ${WORK}/signals.journal ${WORK}/signals.journal-wal ${WORK}/signals.journal-shm)
run(${TRANCHE} execute --side buy --qty 60 --algo twap --start 2024-08-08T23:55:00Z --param signals=on
    --journal ${WORK}/signals.journal)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "execute with signals=on failed (${rc}): ${err}")
endif()
run(${TRANCHE} journal ${WORK}/signals.journal decisions)
if(NOT rc EQUAL 0 OR NOT out MATCHES "place passive: [^\n]*\\[imbalance -?[0-9.]+ depth -?[0-9.]+ flow -?[0-9.]+ micro -?[0-9.]+ ticks\\]"
   OR NOT out MATCHES "(wait|pull) on signal")
  message(FATAL_ERROR "journal decisions with signals (${rc}): ${out} ${err}")
endif()

file(WRITE ${WORK}/bad-grid.toml "[backtest]\nalgos = [\"twop\"]\nsizes = [\"1x\"]\nhorizons = [\"1m\"]\nstarts = [\"2024-08-08T23:55:00Z\"]\n")
run(${TRANCHE} backtest --grid ${WORK}/bad-grid.toml)
string(STRIP "${err}" err)
if(rc EQUAL 0 OR NOT err MATCHES "unknown algo 'twop'" OR err MATCHES "\n")
  message(FATAL_ERROR "bad grid: rc ${rc}, '${err}'")
endif()

# An algo added outside src/ (examples/custom_algo): registered, run, its own parameter checked.
if(CUSTOM)
  run(${CUSTOM} execute --side buy --qty 30 --algo backload --param power=3 --start 2024-08-08T23:55:00Z --json)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tranche-custom execute --algo backload failed (${rc}): ${err}")
  endif()
  string(JSON state GET "${out}" parent state)
  if(NOT state STREQUAL "filled")
    message(FATAL_ERROR "backload: unexpected result ${out}")
  endif()
  run(${CUSTOM} execute --side buy --qty 30 --algo backload --param power=30)
  if(rc EQUAL 0 OR NOT err MATCHES "must be a number from 1 to 10")
    message(FATAL_ERROR "backload power=30: rc ${rc}, '${err}'")
  endif()
endif()

# An intraday curve for vwap from a recording (`tranche md profile`), then a vwap run on it.
run(${TRANCHE} md profile ${DATA}/binance/spot/ethusdt_20240808.gz --buckets 6 --json)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "md profile failed (${rc}): ${err}")
endif()
string(JSON nbuckets LENGTH "${out}" buckets)
string(JSON profile GET "${out}" profile)
if(NOT nbuckets EQUAL 6 OR NOT profile MATCHES "^[0-9.]+(,[0-9.]+)+$")
  message(FATAL_ERROR "md profile: unexpected result ${out}")
endif()
run(${TRANCHE} execute --side buy --qty 30 --algo vwap --param profile=${profile} --start 2024-08-08T23:55:00Z --json)
string(JSON state GET "${out}" parent state)
if(NOT rc EQUAL 0 OR NOT state STREQUAL "filled")
  message(FATAL_ERROR "vwap on a profile (${rc}): ${out} ${err}")
endif()
run(${TRANCHE} md profile ${DATA}/binance/spot/ethusdt_20240808.gz --buckets 0)
string(STRIP "${err}" err)
if(rc EQUAL 0 OR NOT err MATCHES "--buckets must be 1 to 1000" OR err MATCHES "\n")
  message(FATAL_ERROR "md profile --buckets 0: rc ${rc}, '${err}'")
endif()
