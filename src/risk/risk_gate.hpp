#pragma once
// The pre-trade risk gate (docs/risk.md): every parent at acceptance, every child before it is journaled and
// sent, every cancel before it leaves. It reads what is open and in flight from the OMS's counters and keeps
// only what the OMS does not know: the market each venue shows (for collars and staleness) and the venues'
// rate budgets. Denials are values with a stable reason code; the OrderManager journals them.
//
// The child check is the hot path: no allocation, no lock, no exception when the order passes (a denial
// builds its text). Limits come from the config's [risk] and can be reloaded while running.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "oms/oms.hpp"
#include "oms/pre_trade.hpp"

namespace tranche::risk {

class RiskGate final : public oms::PreTradeCheck {
 public:
  explicit RiskGate(const Config& config);

  // New limits (and venues' rate limits) without a restart; market views and rate budgets carry over.
  Status reload(const Config& config);
  const RiskConfig& limits() const { return config_.risk; }

  // What each venue shows, from whoever owns the books: the collar's reference and the staleness clock.
  void on_quote(const VenueId& venue, const InstrumentId& instrument, Price bid, Price ask,
                TimestampNs now_ns);
  void on_trade(const VenueId& venue, const InstrumentId& instrument, Price price, TimestampNs now_ns);
  // The reference price of an instrument: the primary venue's mid when fresh, else the freshest venue's.
  Price reference_price(const InstrumentId& instrument, TimestampNs now_ns) const;

  std::optional<oms::RiskDenial> check_parent(const oms::ParentOrder& parent, const oms::Oms& oms,
                                              TimestampNs now_ns) override;
  std::optional<oms::RiskDenial> check_child(const NewOrder& order, const oms::Oms& oms,
                                             TimestampNs now_ns) override;
  std::optional<oms::RiskDenial> check_cancel(const CancelOrder& cancel, const oms::Oms& oms,
                                              TimestampNs now_ns) override;

  // Whether the venue's order rate budget has a token now (for routing away before a denial).
  bool order_budget_left(const VenueId& venue, TimestampNs now_ns);

  // Each venue's order and cancel rate budgets now: capacity a second (0: unlimited) and how much of it is
  // spent (refilled up to now, the gate itself left as it is).
  struct BudgetUse {
    VenueId venue;
    double orders_per_second = 0, orders_used = 0;
    double cancels_per_second = 0, cancels_used = 0;
  };
  std::vector<BudgetUse> budget_use(TimestampNs now_ns) const;

  std::uint64_t checks() const { return checks_; }
  std::uint64_t denials() const { return denials_; }

 private:
  struct Bucket {
    double capacity = 0;  // 0: unlimited
    double tokens = 0;
    TimestampNs last_ns = 0;
    bool available(TimestampNs now_ns);
    void take() { tokens -= 1.0; }
    double used_at(TimestampNs now_ns) const;  // capacity - the tokens it would hold at now_ns
  };
  // One venue's listing of one instrument, with what the gate knows of its market.
  struct Market {
    VenueId venue;
    InstrumentId instrument;
    const VenueConfig* venue_config = nullptr;
    const VenueListing* listing = nullptr;
    const Instrument* instrument_config = nullptr;
    const InstrumentRisk* limits = nullptr;  // null: no quantity limits for it
    std::size_t venue_index = 0;
    bool disabled = false;
    bool cash = true;  // spot-like balances (a buy spends quote, a sell base)
    Price bid = Price::unset(), ask = Price::unset(), last = Price::unset();
    TimestampNs updated_ns = 0;
    Price mid() const;
  };
  struct VenueBudget {
    VenueId venue;
    Bucket orders, cancels;
  };

  void build();
  Market* market(const VenueId& venue, const InstrumentId& instrument);
  const Market* market(const VenueId& venue, const InstrumentId& instrument) const;
  std::optional<oms::RiskDenial> deny(const char* code, std::string text);

  Config config_;
  std::vector<Market> markets_;
  std::vector<VenueBudget> budgets_;
  std::uint64_t checks_ = 0;
  std::uint64_t denials_ = 0;
};

}  // namespace tranche::risk
