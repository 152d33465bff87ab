#include "gateway/binance_venue_depth.hpp"

#include <algorithm>

namespace tranche::gateway::binance {

void DepthBook::diff_side(bool bid, const std::vector<md::Level>& old_levels,
                          std::span<const md::Level> new_levels) {
  // Both sides are best first: bids by falling price, asks by rising price.
  auto before = [bid](Price a, Price b) { return bid ? a > b : a < b; };
  auto record = [&](Price price, Qty qty) {
    changed_ = true;
    for (Stream& s : streams_)
      if (s.on) s.changes.push_back({bid, {price, qty}});
  };
  std::size_t i = 0, j = 0;
  while (i < old_levels.size() || j < new_levels.size()) {
    if (j == new_levels.size() ||
        (i < old_levels.size() && before(old_levels[i].price, new_levels[j].price))) {
      record(old_levels[i].price, Qty{});  // gone
      ++i;
    } else if (i == old_levels.size() || before(new_levels[j].price, old_levels[i].price)) {
      record(new_levels[j].price, new_levels[j].qty);  // new
      ++j;
    } else {
      if (old_levels[i].qty != new_levels[j].qty) record(new_levels[j].price, new_levels[j].qty);
      ++i;
      ++j;
    }
  }
}

bool DepthBook::publish(std::span<const md::Level> bids, std::span<const md::Level> asks) {
  changed_ = false;
  diff_side(true, bids_, bids);
  diff_side(false, asks_, asks);
  bids_.assign(bids.begin(), bids.end());
  asks_.assign(asks.begin(), asks.end());
  if (changed_) {
    const auto same = [](std::span<const md::Level> side, const md::Level& touch) {
      return side.empty() ? touch.qty.is_zero() : side[0].price == touch.price && side[0].qty == touch.qty;
    };
    if (!(ticker_pending_ && same(bids, ticker_bid_) && same(asks, ticker_ask_))) ++last_id_;
    ticker_pending_ = false;
  }
  return changed_;
}

void DepthBook::set_streaming(int stream, bool on) {
  Stream& s = streams_[stream];
  if (s.on == on) return;
  s.on = on;
  s.changes.clear();
  s.last_sent = last_id_;
}

bool DepthBook::take_batch(int stream, Batch& out) {
  Stream& s = streams_[stream];
  if (!s.on || s.changes.empty() || last_id_ <= s.last_sent) return false;
  out.first_id = s.last_sent + 1;
  out.last_id = last_id_;
  out.bids.clear();
  out.asks.clear();
  // The latest quantity of each level: a stable sort by price keeps the changes' order within a price.
  std::stable_sort(s.changes.begin(), s.changes.end(), [](const Change& a, const Change& b) {
    if (a.bid != b.bid) return a.bid;
    return a.bid ? a.level.price > b.level.price : a.level.price < b.level.price;
  });
  for (std::size_t k = 0; k < s.changes.size(); ++k) {
    const bool last_of_price = k + 1 == s.changes.size() || s.changes[k + 1].bid != s.changes[k].bid ||
                               s.changes[k + 1].level.price != s.changes[k].level.price;
    if (last_of_price) (s.changes[k].bid ? out.bids : out.asks).push_back(s.changes[k].level);
  }
  s.changes.clear();
  s.last_sent = last_id_;
  return true;
}

}  // namespace tranche::gateway::binance
