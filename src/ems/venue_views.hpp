#pragma once
// What the router and the placer weigh, built from the venues' books as they reach us (md::MarketSource):
// each venue's book as it stands, its fee and latency, and whether it may be traded now (open, a valid and
// fresh book, order rate budget left, not avoided).
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "ems/router.hpp"
#include "md/book_signals.hpp"
#include "md/market_source.hpp"
#include "risk/risk_gate.hpp"

namespace tranche::ems {

struct VenueViewOptions {
  std::vector<std::string> allowed;  // empty: every venue
  std::vector<std::string> avoid;    // venues that rejected us lately
  DurationNs max_data_age_ns = 5 * kNanosPerSecond;
  risk::RiskGate* gate = nullptr;  // for the venues' order rate budgets
  std::size_t depth = 200;         // levels a side
  int only_venue = -1;             // the source's venue index to build alone; -1: every venue
};

std::vector<VenueView> venue_views(const md::MarketSource& market, const InstrumentId& instrument,
                                   TimestampNs now_ns, const VenueViewOptions& options = {});

// The venue's signals from its tracker, on the view's own book (depth imbalance over its first five
// levels, the micro-price at its touch), with `own_bid` and `own_ask` (our resting orders at the touch, in
// the venue's units, where the book holds them) taken out: the signals read what the others intend.
void fill_signals(VenueView& view, const md::BookSignalTracker& tracker, TimestampNs now_ns, Qty own_bid = {},
                  Qty own_ask = {});

// The benchmark mid of `instrument` now: `primary`'s, or with `consolidated` the mid of the best bid and
// offer across the venues. Nothing while no such book shows both sides.
std::optional<double> benchmark_mid(const md::MarketSource& market, const InstrumentId& instrument,
                                    std::size_t primary, bool consolidated);
// The venue whose mid is `instrument`'s benchmark: `preferred` (the source's index) when it lists it, else
// the first venue that does (a perpetual beside spot); `preferred` when none does.
int benchmark_venue_index(const md::MarketSource& market, const InstrumentId& instrument, int preferred);

}  // namespace tranche::ems
