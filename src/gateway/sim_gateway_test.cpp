// The EMS side of a simulation talks only through VenueSession and ExecutionListener, as it would to a live
// venue.
#include "gateway/sim_gateway.hpp"

#include <gtest/gtest.h>

namespace tranche::gateway {
namespace {

class Collector : public sim::SimListener {
 public:
  void on_execution_report(const ExecutionReport& r) override { reports.push_back(r); }
  std::vector<ExecutionReport> reports;
};

TEST(SimGateway, AnOrderSentThroughTheVenueSessionIsAnsweredThroughTheListener) {
  auto config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  sim::SimOptions options;
  options.venues = {"binance-usdm"};
  auto created = sim::Simulator::create(*config, options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  sim::Simulator& simulator = *created.value();
  Collector collector;
  simulator.set_listener(&collector);
  auto gateways = make_sim_gateways(simulator);
  ASSERT_EQ(gateways.size(), 1u);
  VenueSession& session = *gateways[0];
  EXPECT_EQ(session.venue(), VenueId("binance-usdm"));

  simulator.run_until(parse_time("2024-08-08T23:55:00Z").value());
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = session.venue();
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Sell;
  order.type = OrderType::Market;
  order.time_in_force = TimeInForce::ImmediateOrCancel;
  order.qty = Qty::from_units(2);
  ASSERT_TRUE(session.send(order));
  ASSERT_TRUE(session.query({ClientOrderId(1), session.venue(), order.instrument, 0}));
  simulator.run_until(parse_time("2024-08-08T23:55:01Z").value());
  ASSERT_GE(collector.reports.size(), 3u);
  EXPECT_EQ(collector.reports.front().exec_type, ExecType::New);
  Qty filled;
  for (const auto& r : collector.reports)
    if (r.exec_type == ExecType::Trade) filled += r.last_qty;
  EXPECT_EQ(filled, Qty::from_units(2));
  EXPECT_EQ(collector.reports.back().exec_type, ExecType::OrderStatus);
  EXPECT_EQ(collector.reports.back().status, OrderStatus::Filled);
  // Every report came back after the venue's 3 ms each way.
  for (const auto& r : collector.reports) EXPECT_EQ(r.received_ns - r.venue_ns, 3 * kNanosPerMilli);
}

}  // namespace
}  // namespace tranche::gateway
