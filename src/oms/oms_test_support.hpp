#pragma once
// Shared fixtures for the OMS tests: a two-venue config (a linear and an inverse listing) and a feeder that
// turns commands and venue reports into journal records with increasing sequence numbers.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/config.hpp"
#include "oms/oms.hpp"

namespace tranche::oms::testing {

inline Config two_venue_config(const std::string& extra = "") {
  auto parsed = parse_config(extra + R"toml(
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
[[venue]]
id = "spot"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
[[venue]]
id = "coinm"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSD_PERP"
lot_size = "1"
inverse = true
contract_size = "10"
)toml",
                             "test.toml");
  return *parsed;
}

inline Qty q(const char* text) {
  return Qty::parse(text).value();
}
inline Price p(const char* text) {
  return Price::parse(text).value();
}

// A journal path of the test's own (the process id in its name), its files gone before and after.
struct ScratchJournalPath {
  explicit ScratchJournalPath(const std::string& name)
      : path((std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".db"))
                 .string()) {
    remove();
  }
  ~ScratchJournalPath() { remove(); }
  ScratchJournalPath(const ScratchJournalPath&) = delete;
  ScratchJournalPath& operator=(const ScratchJournalPath&) = delete;
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm", "-lock"}) std::filesystem::remove(path + suffix);
  }
  std::string path;
};

class Feeder {
 public:
  explicit Feeder(Oms& oms) : oms_(oms) {}
  // Records are stamped seq x 1 us, or from at() on at that moment.
  void at(TimestampNs ts_ns) { ts_ns_ = ts_ns; }
  Status feed(RecordBody body) {
    Record r;
    r.seq = ++seq_;
    r.ts_ns = ts_ns_ != 0 ? ts_ns_ : static_cast<TimestampNs>(seq_ * 1000);
    r.body = std::move(body);
    return oms_.apply(r);
  }
  ParentId parent(const char* qty, Side side = Side::Buy) {
    ParentOrder po;
    po.id = ParentId(++parents_);
    po.account = AccountId("acct");
    po.instrument = InstrumentId("ETH-USDT");
    po.side = side;
    po.qty = q(qty);
    po.algo = "market";
    EXPECT_TRUE(feed(po).ok());
    return po.id;
  }
  NewOrder child(ParentId parent, const char* qty, const char* price = "100", const char* venue = "spot",
                 Side side = Side::Buy) {
    NewOrder o;
    o.client_order_id = ClientOrderId(++children_);
    o.parent_id = parent;
    o.venue = VenueId(venue);
    o.instrument = InstrumentId("ETH-USDT");
    o.side = side;
    o.price = p(price);
    o.qty = q(qty);
    return o;
  }
  ExecutionReport report(const NewOrder& o, ExecType type, const char* last_qty = "0",
                         const char* last_price = "100") {
    ExecutionReport r;
    r.client_order_id = o.client_order_id;
    r.venue = o.venue;
    r.instrument = o.instrument;
    r.exec_type = type;
    r.side = o.side;
    r.order_price = o.price;
    r.order_qty = o.qty;
    if (type == ExecType::Trade) {
      r.last_qty = q(last_qty);
      r.last_price = p(last_price);
      r.exec_id = ExecId("x" + std::to_string(++execs_));
      r.fee = {q("0.01"), FixedString<15>("USDT")};
    }
    return r;
  }
  std::uint64_t seq() const { return seq_; }

 private:
  Oms& oms_;
  std::uint64_t seq_ = 0, parents_ = 0, children_ = 0, execs_ = 0;
  TimestampNs ts_ns_ = 0;
};

}  // namespace tranche::oms::testing
