// The placer's move index: an event whose touch moves none of the resting children skips the pass over them,
// so what it must never do is skip one that would move. Children come and go beside each other on one
// venue; each time the touch comes to where one of them must be re-priced, that one is pulled, and no other.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/config.hpp"
#include "ems/placer.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"

namespace tranche {
namespace {

const InstrumentId kEth("ETH-USDT");

// Takes every request; the test answers for the venue.
class QuietVenue final : public VenueSession {
 public:
  explicit QuietVenue(VenueId id) : id_(std::move(id)) {}
  VenueId venue() const override { return id_; }
  bool send(const NewOrder& order) override {
    sent.push_back(order);
    return true;
  }
  bool cancel(const CancelOrder& c) override {
    cancels.push_back(c.client_order_id);
    return true;
  }
  bool amend(const AmendOrder&) override { return true; }
  bool query(const OrderStatusQuery&) override { return true; }
  std::vector<NewOrder> sent;
  std::vector<ClientOrderId> cancels;

 private:
  VenueId id_;
};

class PlacerIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
    // One venue: every child rests where the touch moves.
    config_.venues.resize(1);
    config_.primary_venue = config_.venues[0].id.str();
    path_ = (std::filesystem::temp_directory_path() /
             ("tranche_placer_index_" + std::to_string(::getpid()) + ".journal"))
                .string();
    remove_files();
    journal_ = oms::Journal::open(path_).value();
    gate_ = std::make_unique<risk::RiskGate>(config_);
    manager_ = oms::OrderManager::open(config_, *journal_, *gate_).value();
    venue_ = std::make_unique<QuietVenue>(config_.venues[0].id);
    manager_->add_session(venue_.get());
    ems::PlacerParams params;
    params.flush = false;
    params.min_rest_ns = 0;
    placer_ = std::make_unique<ems::Placer>(config_, *manager_, params);
    view_.venue = config_.venues[0].id;
    view_.listing = *config_.venues[0].listing(kEth);
    tick_ = view_.listing.tick_size;
    set_touch(Price::parse("2682.96").value());
  }
  void TearDown() override {
    placer_.reset();
    manager_.reset();
    journal_.reset();
    remove_files();
  }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm", "-lock"}) std::filesystem::remove(path_ + suffix);
  }
  // Five levels a side, a tick apart, from the bid.
  void set_touch(Price bid) {
    bid_ = bid;
    view_.bids.clear();
    view_.asks.clear();
    for (int i = 0; i < 5; ++i) {
      view_.bids.push_back({Price::from_raw(bid.raw() - i * tick_.raw()), Qty::from_units(2)});
      view_.asks.push_back({Price::from_raw(bid.raw() + (i + 1) * tick_.raw()), Qty::from_units(2)});
    }
    gate_->on_quote(view_.venue, kEth, view_.bids[0].price, view_.asks[0].price, now_);
  }
  std::vector<ems::VenueView> views() const { return {view_}; }
  // A passive buy of 0.1 ETH under its own parent, its child acknowledged: the child's id.
  ClientOrderId rest(Price limit) {
    oms::ParentOrder p;
    p.account = AccountId("desk");
    p.instrument = kEth;
    p.qty = Qty::from_units(1);
    p.algo = "placer-test";
    const ParentId parent = manager_->accept_parent(p, now_).value();
    ems::Intent intent;
    intent.parent = parent;
    intent.instrument = kEth;
    intent.side = Side::Buy;
    intent.qty = Qty::parse("0.1").value();
    intent.limit = limit;
    intent.urgency = ems::Urgency::Passive;
    const std::size_t id = placer_->submit(intent, views(), now_);
    EXPECT_TRUE(manager_->flush().ok());
    if (venue_->sent.size() != 1u) {
      ADD_FAILURE() << "no child: " << placer_->state(id).last_decision;
      return ClientOrderId(0);
    }
    const NewOrder order = venue_->sent.back();
    venue_->sent.clear();
    report(order.client_order_id, ExecType::New, OrderStatus::New, Qty{});
    return order.client_order_id;
  }
  void report(ClientOrderId child, ExecType type, OrderStatus status, Qty fill) {
    const oms::ChildOrder* c = manager_->oms().child(child);
    ASSERT_NE(c, nullptr);
    ExecutionReport r;
    r.client_order_id = child;
    r.venue = c->order.venue;
    r.instrument = kEth;
    r.side = Side::Buy;
    r.order_price = c->order.price;
    r.order_qty = c->order.qty;
    r.exec_type = type;
    r.status = status;
    r.venue_order_id = VenueOrderId("v" + std::to_string(child.value()));
    r.cum_qty = fill;
    r.leaves_qty = status == OrderStatus::Filled ? Qty{} : c->order.qty - fill;
    if (type == ExecType::Trade) {
      r.exec_id = ExecId("e" + std::to_string(child.value()));
      r.last_qty = fill;
      r.last_price = c->order.price;
      r.liquidity = Liquidity::Maker;
    }
    r.received_ns = r.venue_ns = now_;
    manager_->on_execution_report(r);
    placer_->on_report(r);
    ASSERT_TRUE(manager_->flush().ok());
  }
  // The touch moves to `bid`: the children the placer pulled.
  std::vector<ClientOrderId> move_to(Price bid) {
    now_ += kNanosPerSecond;
    set_touch(bid);
    placer_->on_market(views(), now_, &view_.venue);
    EXPECT_TRUE(manager_->flush().ok());
    std::vector<ClientOrderId> pulled = venue_->cancels;
    venue_->cancels.clear();
    venue_->sent.clear();  // what replaces them: not looked at here
    return pulled;
  }
  Price ticks_above(Price p, int n) const { return Price::from_raw(p.raw() + n * tick_.raw()); }

  Config config_;
  std::string path_;
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<risk::RiskGate> gate_;
  std::unique_ptr<oms::OrderManager> manager_;
  std::unique_ptr<QuietVenue> venue_;
  std::unique_ptr<ems::Placer> placer_;
  ems::VenueView view_;
  Price tick_, bid_;
  TimestampNs now_ = 1'723'161'300 * kNanosPerSecond;
};

TEST_F(PlacerIndex, AChildIsPulledWhenTheTouchLeavesItEvenAfterOthersCameAndWent) {
  const Price start = bid_;
  const ClientOrderId parked = rest(Price::parse("2670").value());  // rests at its limit, far behind
  const ClientOrderId first = rest(Price::unset());                 // rests at the touch
  EXPECT_TRUE(move_to(start).empty()) << "nothing moved, nothing is pulled";
  // The child at the touch fills and leaves; another comes to rest at the touch.
  report(first, ExecType::Trade, OrderStatus::Filled, Qty::parse("0.1").value());
  const ClientOrderId second = rest(Price::unset());
  EXPECT_TRUE(move_to(start).empty());
  // A tick up: only the child at the touch is a tick behind it now. The parked one's limit is below.
  const std::vector<ClientOrderId> pulled = move_to(ticks_above(start, 1));
  ASSERT_EQ(pulled.size(), 1u);
  EXPECT_EQ(pulled[0], second);
  report(second, ExecType::Canceled, OrderStatus::Canceled, Qty{});
  // Down to the parked child's limit and a tick above it: above its limit the touch is out of its reach, so
  // it stays (the canceled child's intent rests again meanwhile, and that child is moved as any).
  const Price limit = Price::parse("2670").value();
  for (const Price touch : {limit, ticks_above(limit, 1)}) {
    const std::vector<ClientOrderId> now_pulled = move_to(touch);
    EXPECT_EQ(std::count(now_pulled.begin(), now_pulled.end(), parked), 0) << "at " << touch.to_string();
  }
}

TEST_F(PlacerIndex, AChildIsPulledWhenTheTouchComesBackWithinItsLimitAfterLeapingPastIt) {
  // It rests at the touch with its limit a little above: a touch beyond the limit leaves it alone (nothing
  // it could be moved to), and the event that brings the touch back within the limit, a tick or more above
  // it, must not be skipped.
  const Price start = bid_;
  const ClientOrderId child = rest(ticks_above(start, 5));
  EXPECT_TRUE(move_to(ticks_above(start, 9)).empty()) << "beyond its limit: it stays";
  EXPECT_TRUE(move_to(ticks_above(start, 12)).empty());
  const std::vector<ClientOrderId> pulled = move_to(ticks_above(start, 4));
  ASSERT_EQ(pulled.size(), 1u) << "back within its limit and four ticks above it";
  EXPECT_EQ(pulled[0], child);
}

}  // namespace
}  // namespace tranche
