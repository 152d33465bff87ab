#include "ems/router.hpp"

#include "core/quantity.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tranche::ems {
namespace {

struct Candidate {
  std::size_t view;
  double price;     // the venue's price
  double all_in;    // with the taker fee: what a unit of base costs (buy) or yields (sell)
  double base;      // base available at the level, after the survival discount
  double per_unit;  // venue units per base at this price (1 on linear, price / contract size on inverse)
  DurationNs latency;
  bool crossed = false;  // where the combined book is crossed
  Price level_price;     // the venue's price, exact
};

double base_of(const VenueView& v, const md::Level& level) {
  return base_from_units(v.listing, level.qty, level.price).to_double();
}

// An expected base from the walk's arithmetic, as a quantity.
Qty expected_base(double base) {
  return qty_from_real(base, kQtyStep, Rounding::Nearest);
}

// The nearest price on the listing's tick.
Price on_tick(Price price, Price tick) {
  if (!tick.is_positive()) return price;
  const std::int64_t ticks = price.raw() / tick.raw(), rest = price.raw() % tick.raw();
  return Price::from_raw((ticks + (2 * rest >= tick.raw() ? 1 : 0)) * tick.raw());
}

}  // namespace

RoutePlan route_marketable(Side side, Qty base_qty_in, Price limit, double reference_mid,
                           const std::vector<VenueView>& views, const RouterParams& params) {
  RoutePlan plan;
  const double base_qty = base_qty_in.to_double();
  const bool buy = side == Side::Buy;
  const double s = buy ? 1.0 : -1.0;
  auto fee_of = [&](const VenueView& v) { return params.net_of_fees ? v.taker_fee_bps / 1e4 : 0.0; };
  auto better = [&](double a, double b) { return buy ? a < b : a > b; };

  // The opposite side's best price on every other tradable venue: what makes a level "crossed".
  auto best_opposite_elsewhere = [&](std::size_t self) {
    double best = buy ? -1.0 : 1e300;  // buy: the highest bid elsewhere; sell: the lowest ask elsewhere
    for (std::size_t i = 0; i < views.size(); ++i) {
      if (i == self || !views[i].tradable) continue;
      const auto& side_levels = buy ? views[i].bids : views[i].asks;
      if (side_levels.empty()) continue;
      const double p = side_levels.front().price.to_double();
      best = buy ? std::max(best, p) : std::min(best, p);
    }
    return best;
  };

  // Each venue's levels are already best first and a fee scales a venue's prices alike, so the combined book
  // is walked as a merge: one cursor a venue, the best next level taken each step, only as deep as needed.
  struct Cursor {
    std::size_t level = 0;
    double crossing = 0;
    double survival = 1;
    double fee = 0;
  };
  std::vector<Cursor> cursors(views.size());
  for (std::size_t i = 0; i < views.size(); ++i) {
    const VenueView& v = views[i];
    cursors[i].crossing =
        params.crossed != CrossedPolicy::AsQuoted ? best_opposite_elsewhere(i) : (buy ? -1.0 : 1e300);
    double hz = buy ? v.ask_change_hz : v.bid_change_hz;
    // A touch leaning toward our side of the book is one the market is about to take from us.
    if (v.signals.known && params.imbalance_weight > 0)
      hz *= 1 + params.imbalance_weight * std::max(0.0, (buy ? 1 : -1) * v.signals.touch_imbalance);
    cursors[i].survival = params.latency_discount && hz > 0
                              ? std::exp(-hz * static_cast<double>(v.latency_ns) / kNanosPerSecond)
                              : 1.0;
    cursors[i].fee = fee_of(v);
  }
  // The next usable level of venue i, skipping (and counting) the crossed part; false when it has none left.
  auto next_level = [&](std::size_t i, Candidate& out) {
    const VenueView& v = views[i];
    if (!v.tradable) return false;
    const auto& levels = buy ? v.asks : v.bids;
    Cursor& c = cursors[i];
    while (c.level < levels.size()) {
      const md::Level& level = levels[c.level];
      const double price = level.price.to_double();
      if (limit.is_set() && better(limit.to_double(), price)) return false;
      const double base = base_of(v, level);
      // An ask at or below another venue's bid (a bid at or above another's ask) is where the combined book
      // is crossed: no phantom arbitrage is counted on there.
      double value = price;
      const bool crossed = buy ? price <= c.crossing : price >= c.crossing;
      if (crossed) {
        if (params.crossed == CrossedPolicy::Unavailable) {
          ++c.level;
          continue;
        }
        value = c.crossing;  // no better than the other venue's quote
      }
      const double per_unit = v.listing.inverse ? price / v.listing.contract_size.to_double() : 1.0;
      out = {i,       price,      value * (1.0 + s * c.fee), base * c.survival, per_unit, v.latency_ns,
             crossed, level.price};
      return true;
    }
    return false;
  };

  // Walk the combined book, then round each venue's share to what it accepts.
  struct Share {
    double base = 0, units = 0, cost = 0;
    Price worst;
  };
  // A venue whose share rounds to nothing it accepts (under a lot, a contract or its minimum notional) is
  // left out and the walk is done again without it, so that share goes to the next best venue instead of
  // nowhere.
  std::vector<bool> excluded(views.size(), false);
  std::vector<Share> shares;
  DurationNs slowest = 0;
  for (std::size_t attempt = 0; attempt <= views.size(); ++attempt) {
    shares.assign(views.size(), Share{});
    for (std::size_t i = 0; i < views.size(); ++i) cursors[i].level = 0;
    double crossed_base = 0;
    double left = base_qty;
    while (left > 1e-12) {
      Candidate best{};
      bool found = false;
      for (std::size_t i = 0; i < views.size(); ++i) {
        Candidate c;
        if (excluded[i] || !next_level(i, c)) continue;
        // Equal values (crossed levels capped at one price) are told apart by their own prices, then latency.
        const bool tie = c.all_in == best.all_in;
        if (!found || better(c.all_in, best.all_in) || (tie && better(c.price, best.price)) ||
            (tie && c.price == best.price && c.latency < best.latency)) {
          best = c;
          found = true;
        }
      }
      if (!found) break;
      ++cursors[best.view].level;
      const double take = std::min(left, best.base);
      if (best.crossed) crossed_base += take;
      Share& sh = shares[best.view];
      sh.base += take;
      sh.units += take * best.per_unit;
      sh.cost += take * best.all_in;
      sh.worst = best.level_price;
      left -= take;
    }
    plan.crossed_base = expected_base(crossed_base);
    plan.pieces.clear();
    slowest = 0;
    // Of the shares their venues cannot take, the largest is left out and the walk done again, one venue at a
    // time: moving the most quantity elsewhere is what lets the other venues reach their lots and minimums,
    // and a venue able to take the rest is never dropped along with it.
    std::size_t drop = views.size();
    double drop_base = 0;
    for (std::size_t i = 0; i < views.size(); ++i) {
      const Share& sh = shares[i];
      if (sh.base <= 0) continue;
      const VenueView& v = views[i];
      const Qty units = qty_from_real(sh.units, v.listing.lot_size, Rounding::Down);
      const bool too_small =
          !units.is_positive() ||
          (!v.listing.inverse && v.listing.min_notional.is_positive() &&
           Notional::of(sh.worst, units) <
               Notional::from_raw(Notional::Raw{v.listing.min_notional.raw()} * kFixedScale));
      if (too_small) {
        if (drop == views.size() || sh.base > drop_base) {
          drop = i;
          drop_base = sh.base;
        }
        continue;
      }
      const double kept = units.to_double() / sh.units;  // rounding down keeps this share of the venue's base
      RoutePiece piece;
      piece.view = i;
      piece.venue = v.venue;
      piece.qty = units;
      piece.limit = on_tick(sh.worst, v.listing.tick_size);
      piece.base = expected_base(sh.base * kept);
      piece.cost_quote = sh.cost * kept;
      plan.pieces.push_back(piece);
      slowest = std::max(slowest, v.latency_ns);
    }
    if (drop == views.size()) break;
    excluded[drop] = true;
  }
  double cost = 0;
  for (auto& piece : plan.pieces) {
    piece.send_delay_ns = slowest - views[piece.view].latency_ns;
    plan.base += piece.base;
    cost += piece.cost_quote;
  }
  if (plan.base.is_positive()) {
    plan.average_all_in = cost / plan.base.to_double();
    if (reference_mid > 0) plan.cost_bps = 1e4 * s * (plan.average_all_in - reference_mid) / reference_mid;
  }

  // What each venue alone would have done: the alternatives weighed.
  for (const VenueView& v : views) {
    RouteAlternative alt;
    alt.venue = v.venue;
    if (!v.tradable) {
      alt.note = "not tradable: " + v.not_tradable;
      plan.alternatives.push_back(alt);
      continue;
    }
    // Valued on the plan's own basis: the crossed part left out, the fee counted.
    const double crossing = params.crossed != CrossedPolicy::AsQuoted
                                ? best_opposite_elsewhere(static_cast<std::size_t>(&v - views.data()))
                                : (buy ? -1.0 : 1e300);
    double got = 0, spent = 0;
    for (const md::Level& level : buy ? v.asks : v.bids) {
      const double price = level.price.to_double();
      if (limit.is_set() && better(limit.to_double(), price)) break;
      double value = price;
      if (buy ? price <= crossing : price >= crossing) {
        if (params.crossed == CrossedPolicy::Unavailable) continue;
        value = crossing;
      }
      const double take = std::min(base_qty - got, base_of(v, level));
      got += take;
      spent += take * value * (1.0 + s * fee_of(v));
      if (got >= base_qty - 1e-12) break;
    }
    alt.base = expected_base(got);
    if (got > 0) {
      alt.average_all_in = spent / got;
      if (reference_mid > 0) alt.cost_bps = 1e4 * s * (alt.average_all_in - reference_mid) / reference_mid;
    }
    if (got < base_qty - 1e-9) alt.note = "its book shows only " + std::to_string(got);
    plan.alternatives.push_back(alt);
  }
  return plan;
}

std::string RoutePlan::explain() const {
  Text out(2);
  out << "route: " << base.to_double() << " base at " << average_all_in << " all-in (" << cost_bps << " bps)";
  for (const auto& p : pieces)
    out << "; " << p.venue.view() << " " << p.qty.to_string() << " <= " << p.limit.to_string() << " (delay "
        << p.send_delay_ns / 1000 << " us)";
  if (crossed_base.is_positive())
    out << "; at crossed levels (no phantom gain counted): " << crossed_base.to_double();
  out << "\n";
  for (const auto& a : alternatives) {
    out << "  alone on " << a.venue.view() << ": ";
    if (a.base.is_positive())
      out << a.base.to_double() << " at " << a.average_all_in << " all-in (" << a.cost_bps << " bps)";
    if (!a.note.empty()) out << (a.base.is_positive() ? ", " : "") << a.note;
    out << "\n";
  }
  return out.take();
}

}  // namespace tranche::ems
