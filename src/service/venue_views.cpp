#include "service/venue_views.hpp"

#include <algorithm>

namespace tranche::service {

std::vector<ems::VenueView> venue_views(const sim::Simulator& sim, const InstrumentId& instrument,
                                        TimestampNs now_ns, const VenueViewOptions& options) {
  auto listed = [](const std::vector<std::string>& list, const VenueId& id) {
    return std::find(list.begin(), list.end(), id.str()) != list.end();
  };
  std::vector<ems::VenueView> out;
  for (std::size_t v = 0; v < sim.venue_count(); ++v) {
    if (options.only_venue >= 0 && static_cast<int>(v) != options.only_venue) continue;
    const auto& venue = sim.venue(v);
    const int m = venue.market_of(instrument);
    if (m < 0) continue;
    if (!options.allowed.empty() && !listed(options.allowed, venue.config().id)) continue;
    const sim::SimMarket& market = venue.market(static_cast<std::size_t>(m));
    ems::VenueView view;
    view.venue = venue.config().id;
    view.listing = market.listing();
    view.taker_fee_bps = venue.config().fees.taker_bps.to_double();
    view.latency_ns = venue.sim().order_latency.base_ns;
    // Safety: never route to a venue that is closed, halted, stale, out of rate budget or that rejected us.
    if (venue.state() != VenueState::Open) {
      view.not_tradable = std::string(to_string(venue.state()));
    } else if (!market.valid()) {
      view.not_tradable = "no valid book";
    } else if (now_ns - market.last_event_ns() > options.max_data_age_ns) {
      view.not_tradable = "market data stale";
    } else if (options.gate != nullptr && !options.gate->order_budget_left(venue.config().id, now_ns)) {
      view.not_tradable = "out of order rate budget";
    } else if (listed(options.avoid, venue.config().id)) {
      view.not_tradable = "rejected this parent's order";
    }
    view.tradable = view.not_tradable.empty();
    // How fast the touch has been changing: once since its last change, as a rate (capped at 1 kHz).
    auto rate = [&](Side side) {
      const auto& book_side = market.recorded_book().side(side);
      if (book_side.empty()) return 0.0;
      const double age_s =
          std::max<double>(1e-3, static_cast<double>(now_ns - book_side.best_updated_ns()) / kNanosPerSecond);
      return std::min(1000.0, 1.0 / age_s);
    };
    view.bid_change_hz = rate(Side::Buy);
    view.ask_change_hz = rate(Side::Sell);
    for (Side side : {Side::Buy, Side::Sell}) {
      auto& into = side == Side::Buy ? view.bids : view.asks;
      market.for_each_level(side, [&](Price price, Qty qty) {
        into.push_back({price, qty});
        return into.size() < options.depth;
      });
    }
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace tranche::service
