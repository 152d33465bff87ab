// The TCA `tranche serve` reports for a parent (the API's GET /api/v1/parents/{id}/tca) is `tranche
// execute`'s, number for number: the same parent, on the same seeded market, once through `tranche execute
// --json` and once through a TcaTape beside the kernel (as serve keeps one), gives the same "tca" object, key
// for key, and the same pre-trade "estimate" beside it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ems/kernel.hpp"
#include "service/execute_command.hpp"
#include "service/runtime.hpp"
#include "service/tca_tape.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

const std::string kDefault = std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml";

nlohmann::ordered_json execute_tca(const std::string& algo, const std::string& start,
                                   const std::string& scenario = "",
                                   const std::string& instrument = "ETH-USDT") {
  service::ExecuteOptions options;
  options.side = "buy";
  options.qty = "3";
  options.algo = algo;
  options.scenario = scenario;
  options.instrument = instrument;
  options.start = start;
  options.json = true;
  options.progress = false;
  std::ostringstream out, err;
  EXPECT_EQ(service::execute_command(options, out, err), 0) << err.str();
  return nlohmann::ordered_json::parse(out.str());
}

nlohmann::ordered_json tape_tca(const std::string& algo, TimestampNs start,
                                const std::string& scenario = kDefault,
                                const std::string& instrument = "ETH-USDT") {
  const Config config = load_config(scenario).value();
  service::RuntimeOptions options;
  options.refuse_open_children = true;
  auto runtime = service::Runtime::open(config, options);
  EXPECT_TRUE(runtime) << (runtime ? "" : runtime.error().message);
  sim::Simulator& sim = runtime.value()->sim();
  ems::Kernel& kernel = runtime.value()->kernel();
  service::TcaTape tape(runtime.value()->market(), runtime.value()->manager(), VenueId(config.primary_venue),
                        false, 10, &kernel);
  service::TcaTapeObserver observer(tape);
  kernel.set_observer(&observer);
  oms::ParentOrder parent;
  parent.account = AccountId("default");
  parent.instrument = InstrumentId(instrument);
  parent.side = Side::Buy;
  Qty::parse("3", parent.qty);
  parent.algo = algo;
  parent.strategy = "tranche-execute";
  parent.start_ns = start;
  parent.end_ns = start + 2 * 60 * kNanosPerSecond;
  ParentId id;
  kernel.call_at(start, [&](TimestampNs) { id = kernel.submit(parent).value(); });
  while ((id.value() == 0 || kernel.working(id)) && sim.step())
    if (!kernel.market_closed() && !sim.recording_left()) kernel.data_ended();
  const oms::ParentRecord* done = runtime.value()->manager().oms().parent(id);
  EXPECT_NE(done, nullptr);
  const TimestampNs end_ns = done != nullptr ? done->done_ns : sim.now();
  const TimestampNs scenario_end = config.scenario ? config.scenario->end_ns : 0;
  const TimestampNs markout_until = end_ns + 70 * kNanosPerSecond;
  sim.run_until(scenario_end != 0 ? std::min(markout_until, scenario_end) : markout_until);
  tape.tick(sim.now(), kernel.market_closed());
  auto report = tape.report(id, sim.now());
  EXPECT_TRUE(report && *report);
  if (!report || !*report) return {};
  EXPECT_TRUE(report->value().at("final").get<bool>());
  return report->value();
}

TEST(ServeTca, IsTrancheExecutesNumberForNumber) {
  const Config config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
  auto sim = sim::Simulator::create(config, {}).value();
  const TimestampNs start = sim->start_ns() + 60 * kNanosPerSecond;
  for (const std::string algo : {"twap", "market"}) {
    const auto executed = execute_tca(algo, format_time(start));
    const auto served = tape_tca(algo, start);
    EXPECT_GT(executed.at("tca").at("filled").get<double>(), 0) << algo;
    EXPECT_EQ(served.at("tca").dump(1), executed.at("tca").dump(1)) << algo;
    ASSERT_TRUE(executed.at("estimate").is_object()) << algo;
    EXPECT_TRUE(executed.at("estimate").at("cost_bps").is_number()) << algo;
    EXPECT_TRUE(executed.at("estimate").at("error_bps").is_number()) << algo;
    EXPECT_EQ(served.at("estimate").dump(1), executed.at("estimate").dump(1)) << algo;
  }
}

TEST(ServeTca, APerpetualBesideSpotIsMeasuredOnItsOwnVenuesMidAndPrints) {
  const std::string scenario = std::string(TRANCHE_SOURCE_DIR) + "/scenarios/eth-spot-perp-2024-08-08.toml";
  const Config config = load_config(scenario).value();
  auto sim = sim::Simulator::create(config, {}).value();
  const TimestampNs start = sim->start_ns() + 60 * kNanosPerSecond;
  const auto executed = execute_tca("twap", format_time(start), scenario, "ETH-USDT-PERP");
  const auto served = tape_tca("twap", start, scenario, "ETH-USDT-PERP");
  EXPECT_EQ(executed.at("tca").at("benchmark").get<std::string>(), "binance-usdm mid");
  EXPECT_TRUE(executed.at("tca").at("vwap").is_number())
      << "the perpetual's own prints make its interval VWAP";
  EXPECT_EQ(served.at("tca").dump(1), executed.at("tca").dump(1));
}

}  // namespace
}  // namespace tranche
