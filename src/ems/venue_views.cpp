#include "ems/venue_views.hpp"

#include <algorithm>
#include <array>

namespace tranche::ems {

std::vector<VenueView> venue_views(const md::MarketSource& market, const InstrumentId& instrument,
                                   TimestampNs now_ns, const VenueViewOptions& options) {
  auto listed = [](const std::vector<std::string>& list, const VenueId& id) {
    return std::find(list.begin(), list.end(), id.str()) != list.end();
  };
  std::vector<VenueView> out;
  std::vector<md::Level> levels(options.depth);
  for (std::size_t v = 0; v < market.venue_count(); ++v) {
    if (options.only_venue >= 0 && static_cast<int>(v) != options.only_venue) continue;
    const md::BookView* book = market.book(v, instrument);
    if (book == nullptr) continue;
    const VenueConfig& venue = market.venue_config(v);
    if (!options.allowed.empty() && !listed(options.allowed, venue.id)) continue;
    VenueView view;
    view.venue = venue.id;
    view.source = v;
    view.listing = book->listing();
    view.taker_fee_bps = venue.fees.taker_bps.to_double();
    view.maker_fee_bps = venue.fees.maker_bps.to_double();
    view.latency_ns = venue.sim ? venue.sim->order_latency.base_ns : 0;
    // Safety: never route to a venue that is closed, halted, stale, out of rate budget or that rejected us.
    const VenueState state = market.venue_state(v);
    if (state != VenueState::Open) {
      view.not_tradable = std::string(to_string(state));
    } else if (!book->valid()) {
      view.not_tradable = "no valid book";
    } else if (now_ns - book->last_event_ns() > options.max_data_age_ns) {
      view.not_tradable = "market data stale";
    } else if (options.gate != nullptr && !options.gate->order_budget_left(venue.id, now_ns)) {
      view.not_tradable = "out of order rate budget";
    } else if (listed(options.avoid, venue.id)) {
      view.not_tradable = "rejected this parent's order";
    }
    view.tradable = view.not_tradable.empty();
    // How fast the touch has been changing: once since its last change, as a rate (capped at 1 kHz).
    auto rate = [&](Side side) {
      const TimestampNs updated = book->best_updated_ns(side);
      if (updated == 0) return 0.0;
      const double age_s = std::max<double>(1e-3, static_cast<double>(now_ns - updated) / kNanosPerSecond);
      return std::min(1000.0, 1.0 / age_s);
    };
    view.bid_change_hz = rate(Side::Buy);
    view.ask_change_hz = rate(Side::Sell);
    for (Side side : {Side::Buy, Side::Sell}) {
      const std::size_t n = book->levels(side, levels);
      (side == Side::Buy ? view.bids : view.asks).assign(levels.begin(), levels.begin() + n);
    }
    out.push_back(std::move(view));
  }
  return out;
}

void fill_signals(VenueView& view, const md::BookSignalTracker& tracker, TimestampNs now_ns, Qty own_bid,
                  Qty own_ask) {
  VenueSignals& s = view.signals;
  s = VenueSignals{};
  s.known = true;
  s.fitted = tracker.model().fitted();
  s.flow_imbalance = tracker.flow().imbalance(now_ns);
  if (view.bids.empty() || view.asks.empty()) {
    s.depth_imbalance = md::depth_imbalance(view.bids, view.asks, 5);
    return;
  }
  // The touch as the others show it: ours taken out (never below nothing).
  md::Level bid = view.bids.front(), ask = view.asks.front();
  bid.qty = std::max(Qty{}, bid.qty - own_bid);
  ask.qty = std::max(Qty{}, ask.qty - own_ask);
  std::array<md::Level, 5> bids{}, asks{};
  const std::size_t nb = std::min<std::size_t>(5, view.bids.size()),
                    na = std::min<std::size_t>(5, view.asks.size());
  std::copy_n(view.bids.begin(), nb, bids.begin());
  std::copy_n(view.asks.begin(), na, asks.begin());
  bids[0] = bid;
  asks[0] = ask;
  s.depth_imbalance = md::depth_imbalance(std::span(bids.data(), nb), std::span(asks.data(), na), 5);
  s.touch_imbalance = md::touch_imbalance(bid.qty, ask.qty);
  s.micro_price = tracker.model().micro_price(bid.price, bid.qty, ask.price, ask.qty);
  const Price tick = view.listing.tick_size;
  if (s.micro_price.is_set() && tick.is_positive())
    s.micro_ticks = (static_cast<double>(s.micro_price.raw()) -
                     static_cast<double>(bid.price.raw() + ask.price.raw()) / 2) /
                    static_cast<double>(tick.raw());
}

int benchmark_venue_index(const md::MarketSource& market, const InstrumentId& instrument, int preferred) {
  if (preferred >= 0 && market.book(static_cast<std::size_t>(preferred), instrument) != nullptr)
    return preferred;
  for (std::size_t v = 0; v < market.venue_count(); ++v)
    if (market.book(v, instrument) != nullptr) return static_cast<int>(v);
  return preferred;
}

std::optional<double> benchmark_mid(const md::MarketSource& market, const InstrumentId& instrument,
                                    std::size_t primary, bool consolidated) {
  double bid = 0, ask = 0;
  bool have = false;
  for (std::size_t v = 0; v < market.venue_count(); ++v) {
    if (!consolidated && v != primary) continue;
    const md::BookView* book = market.book(v, instrument);
    if (book == nullptr) continue;
    const Price b = book->best(Side::Buy), a = book->best(Side::Sell);
    if (!b.is_set() || !a.is_set()) continue;
    bid = have ? std::max(bid, b.to_double()) : b.to_double();
    ask = have ? std::min(ask, a.to_double()) : a.to_double();
    have = true;
  }
  if (!have) return std::nullopt;
  return (bid + ask) / 2;
}

}  // namespace tranche::ems
