#pragma once
// Smart order routing of marketable quantity: one order split across venues by walking their books together,
// each level valued net of its venue's taker fee and discounted by the chance it is gone before our order
// arrives; the part of the combined book that is crossed (one venue's ask below another's bid) is treated as
// unavailable, so no phantom arbitrage is counted on. Pieces are timed to arrive together. Every decision
// keeps the alternatives it weighed (each venue alone) with their expected costs.
//
// The router sees venues only as VenueView snapshots built by the caller from its market data, so the same
// code routes against the simulator and against live venues.
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "md/event.hpp"

namespace tranche::ems {

// What a venue's book and trades say about its next move (md/book_signals.hpp), as the view was built.
struct VenueSignals {
  bool known = false;          // a tracker fed this venue; false: the placer and the router ignore the rest
  bool fitted = false;         // the micro-price is fitted on the venue's own touch (else the weighted mid)
  double touch_imbalance = 0;  // (bid - ask) / (bid + ask) at the touch, in [-1, 1]
  double depth_imbalance = 0;  // the same over the first five levels, nearer levels weighing more
  double flow_imbalance = 0;   // the recent takers: (buy - sell) / (buy + sell), half-life 1 s
  double micro_ticks = 0;      // micro-price - mid, in ticks: where the mid is expected to go
  Price micro_price = Price::unset();  // while a side is empty
};

// One venue at decision time.
struct VenueView {
  VenueId venue;
  VenueListing listing;  // steps; inverse listings quote contracts
  double taker_fee_bps = 0;
  double maker_fee_bps = 0;           // what a resting child pays (negative: a rebate)
  DurationNs latency_ns = 0;          // expected time for our order to reach it
  bool tradable = true;               // open, not halted, fresh data, rate budget left
  std::string not_tradable;           // why not
  std::vector<md::Level> bids, asks;  // best first, the venue's prices and units
  // How often each side's top levels change (per second), when known: a level changing at rate r is still
  // there after the latency L with probability exp(-r L).
  double bid_change_hz = 0, ask_change_hz = 0;
  VenueSignals signals;
  std::size_t source = 0;  // the venue's index in the market source the view was built from
};

// What the router makes of the part of the combined book that is crossed (one venue's ask at or below another
// venue's bid): never a gain to count on.
enum class CrossedPolicy : std::uint8_t {
  // The crossed levels are taken as liquidity, but valued no better than the other venue's price (the bid a
  // buy
  // crosses, the ask a sell crosses): the router never counts on the phantom arbitrage, yet does not refuse a
  // venue's real depth because another venue's quote overlaps it.
  NoPhantomGain,
  Unavailable,  // the crossed levels are left out altogether
  AsQuoted,     // valued at their own prices (for comparison only)
};

struct RouterParams {
  bool net_of_fees = true;       // value levels with the taker fee
  bool latency_discount = true;  // discount levels by their survival over the venue's latency
  CrossedPolicy crossed = CrossedPolicy::NoPhantomGain;
  // How much a touch leaning against the levels we take speeds up their going (0: not at all): a buy's
  // asks change at hz x (1 + weight x the touch imbalance toward the bids), when the venue's signals are
  // known. Imbalance at the touch predicts which side is consumed next (docs/algos.md).
  double imbalance_weight = 0;
};

struct RoutePiece {
  std::size_t view = 0;  // index into the views given
  VenueId venue;
  Qty qty;                       // venue units (whole contracts on inverse listings)
  Price limit;                   // the worst price taken there: the piece is an IOC at it
  Qty base;                      // expected base quantity
  double cost_quote = 0;         // expected price x base plus the taker fee (a model's estimate)
  DurationNs send_delay_ns = 0;  // hold it this long so the pieces arrive together
};

struct RouteAlternative {
  VenueId venue;
  Qty base;                   // what that venue alone would fill (up to the quantity asked)
  double average_all_in = 0;  // price with fee
  double cost_bps = 0;        // all-in average against the reference mid, positive = worse
  std::string note;           // not tradable, or too shallow
};

struct RoutePlan {
  std::vector<RoutePiece> pieces;
  Qty base;                   // expected, all pieces
  double average_all_in = 0;  // expected price with fees
  double cost_bps = 0;        // against the reference mid
  Qty crossed_base;           // base at crossed levels: left out, or valued without the phantom gain
  std::vector<RouteAlternative> alternatives;
  std::string explain() const;  // the decision and what it weighed, one line per alternative
};

// Routes `base_qty` of `side` up to `limit` (unset: none). `reference_mid` values the alternatives. The walk
// weighs expected costs in double; what comes out (pieces in whole lots, expected base) is Qty.
RoutePlan route_marketable(Side side, Qty base_qty, Price limit, double reference_mid,
                           const std::vector<VenueView>& views, const RouterParams& params = {});

}  // namespace tranche::ems
