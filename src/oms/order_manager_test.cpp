// The OrderManager with the journal's writer thread: a request leaves for its venue only once the records
// that made it are durable, whichever flush hands it over.
#include "oms/order_manager.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "oms/oms_test_support.hpp"

namespace tranche::oms {
namespace {

using testing::p;
using testing::q;

// A child of `parent`: a buy of 0.5 ETH at 2600 on the spot venue.
NewOrder spot_buy(ParentId parent) {
  NewOrder child;
  child.parent_id = parent;
  child.venue = VenueId("spot");
  child.instrument = InstrumentId("ETH-USDT");
  child.side = Side::Buy;
  child.qty = q("0.5");
  child.price = p("2600.00");
  return child;
}

class LetEverythingThrough final : public PreTradeCheck {
 public:
  std::optional<RiskDenial> check_parent(const ParentOrder&, const Oms&, TimestampNs) override {
    return std::nullopt;
  }
  std::optional<RiskDenial> check_child(const NewOrder&, const Oms&, TimestampNs) override {
    return std::nullopt;
  }
  std::optional<RiskDenial> check_cancel(const CancelOrder&, const Oms&, TimestampNs) override {
    return std::nullopt;
  }
};

// Notes, for each request it is handed, how far the journal was durable then.
class DurabilityWitness final : public VenueSession {
 public:
  DurabilityWitness(VenueId venue, const Journal& journal) : venue_(std::move(venue)), journal_(journal) {}
  VenueId venue() const override { return venue_; }
  bool send(const NewOrder& order) override {
    durable_at_send[order.client_order_id.value()] = journal_.durable_seq();
    return true;
  }
  bool cancel(const CancelOrder& cancel) override {
    durable_at_cancel[cancel.client_order_id.value()] = journal_.durable_seq();
    return true;
  }
  bool amend(const AmendOrder&) override { return true; }
  bool query(const OrderStatusQuery&) override { return true; }
  std::map<std::uint64_t, std::uint64_t> durable_at_send, durable_at_cancel;

 private:
  VenueId venue_;
  const Journal& journal_;
};

TEST(OrderManagerWithTheWriterThread, SendsEveryChildOnlyAfterTheRecordThatMadeItIsDurable) {
  const testing::ScratchJournalPath path("tranche_om_writer");
  const Config config = testing::two_venue_config();
  {
    auto journal = Journal::open(path.path).value();
    // The seq of each child's ChildSent and of each cancel's CancelSent, as they are appended.
    std::map<std::uint64_t, std::uint64_t> child_seq, cancel_seq;
    journal->set_append_listener([&](std::uint64_t seq, TimestampNs, const RecordBody& body) {
      if (const auto* sent = std::get_if<NewOrder>(&body)) child_seq[sent->client_order_id.value()] = seq;
      if (const auto* cancel = std::get_if<CancelOrder>(&body))
        cancel_seq[cancel->client_order_id.value()] = seq;
    });
    LetEverythingThrough gate;
    auto manager = OrderManager::open(config, *journal, gate).value();
    DurabilityWitness venue(VenueId("spot"), *journal);
    manager->add_session(&venue);
    ASSERT_TRUE(journal->start_writer().ok());

    ParentOrder parent;
    parent.account = AccountId("acct");
    parent.instrument = InstrumentId("ETH-USDT");
    parent.qty = q("1000");
    parent.algo = "twap";
    const ParentId id = manager->accept_parent(parent, 1).value();
    std::vector<ClientOrderId> children;
    for (int event = 0; event < 300; ++event) {
      for (int k = 0; k < 3; ++k) {
        children.push_back(manager->send_child(spot_buy(id), 10 + event).value());
      }
      if (event % 2 == 1) ASSERT_TRUE(manager->cancel_child(children[children.size() - 4], 10 + event).ok());
      ASSERT_TRUE(manager->flush().ok());  // hands them over; those durable already leave
    }
    ASSERT_TRUE(journal->wait_durable().ok());
    manager->release_durable();
    EXPECT_EQ(manager->waiting_requests(), 0u);
    ASSERT_EQ(venue.durable_at_send.size(), children.size());
    for (const auto& [child, durable] : venue.durable_at_send)
      ASSERT_GE(durable, child_seq.at(child)) << "child " << child << " left before its record was durable";
    ASSERT_EQ(venue.durable_at_cancel.size(), 150u);
    for (const auto& [child, durable] : venue.durable_at_cancel)
      ASSERT_GE(durable, cancel_seq.at(child)) << "the cancel of " << child << " left before its record";
    journal->set_append_listener(nullptr);
  }
}

TEST(OrderManagerTouchedParents, NamesTheParentOfEachRecordItsOwnItsChildrensAndItsAlgosInOrder) {
  const testing::ScratchJournalPath path("tranche_om_touched");
  const Config config = testing::two_venue_config();
  {
    auto journal = Journal::open(path.path).value();
    LetEverythingThrough gate;
    auto manager = OrderManager::open(config, *journal, gate).value();
    DurabilityWitness venue(VenueId("spot"), *journal);
    manager->add_session(&venue);
    ParentOrder parent;
    parent.account = AccountId("acct");
    parent.instrument = InstrumentId("ETH-USDT");
    parent.qty = q("10");
    parent.algo = "twap";
    std::vector<std::uint64_t> touched;
    const ParentId first = manager->accept_parent(parent, 1).value();
    manager->take_touched_parents(touched);
    EXPECT_TRUE(touched.empty()) << "kept before anyone asked for them";

    manager->collect_touched_parents();
    const ParentId second = manager->accept_parent(parent, 2).value();
    const ClientOrderId sent = manager->send_child(spot_buy(first), 3).value();
    ASSERT_TRUE(manager->record_algo_state(second, "slice", "why", 4).ok());
    ExecutionReport fill;
    fill.client_order_id = sent;
    fill.venue = VenueId("spot");
    fill.instrument = InstrumentId("ETH-USDT");
    fill.side = Side::Buy;
    fill.exec_type = ExecType::Trade;
    fill.status = OrderStatus::PartiallyFilled;
    fill.exec_id = ExecId("f1");
    fill.last_qty = fill.cum_qty = q("0.2");
    fill.leaves_qty = q("0.3");
    fill.last_price = p("2600.00");
    fill.received_ns = fill.venue_ns = 5;
    manager->on_execution_report(fill);
    ASSERT_TRUE(manager->cancel_child(sent, 6).ok());
    ASSERT_TRUE(manager->record_note("no parent's", 7).ok());
    manager->take_touched_parents(touched);
    EXPECT_EQ(touched, (std::vector<std::uint64_t>{second.value(), first.value(), second.value(),
                                                   first.value(), first.value()}));
    manager->take_touched_parents(touched);
    EXPECT_TRUE(touched.empty()) << "a take empties the list";
  }
}

TEST(UntilDurable, LetsItemsGoInOrderOnceTheirSeqIsDurableAndForgetsThoseARollbackTook) {
  UntilDurable<int> held;
  held.hold(3, 30);
  held.hold(3, 31);
  held.hold(5, 50);
  held.hold(8, 80);
  std::vector<int> gone;
  EXPECT_EQ(held.release(2, [&](int i) { gone.push_back(i); }), 0u);
  EXPECT_EQ(held.release(4, [&](int i) { gone.push_back(i); }), 2u);
  EXPECT_EQ(gone, (std::vector<int>{30, 31}));
  // One let go may hold another (the journal's seq never goes back): it goes in the same call when durable.
  EXPECT_EQ(held.release(8,
                         [&](int i) {
                           gone.push_back(i);
                           if (i == 50) held.hold(8, 81);
                         }),
            3u);
  EXPECT_EQ(gone, (std::vector<int>{30, 31, 50, 80, 81}));
  held.hold(9, 90);
  held.hold(10, 100);
  held.drop_after(9);  // seq 10 was rolled back
  EXPECT_EQ(held.size(), 1u);
  EXPECT_EQ(held.release(100, [&](int i) { gone.push_back(i); }), 1u);
  EXPECT_EQ(gone, (std::vector<int>{30, 31, 50, 80, 81, 90}));
  EXPECT_TRUE(held.empty());
}

}  // namespace
}  // namespace tranche::oms
