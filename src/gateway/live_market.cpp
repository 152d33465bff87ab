#include "gateway/live_market.hpp"

#include <algorithm>
#include <chrono>

namespace tranche::gateway {

TimestampNs LiveMarket::wall_clock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LiveMarket::LiveMarket(std::vector<std::unique_ptr<BinanceSpotMarket>> venues, Clock clock)
    : venues_(std::move(venues)), clock_(std::move(clock)) {
  std::vector<Timer> storage;
  storage.reserve(1024);
  timers_ = decltype(timers_)(std::greater<Timer>(), std::move(storage));
  now_ = clock_();
}

LiveMarket::~LiveMarket() = default;

TimestampNs LiveMarket::now() const {
  if (pumping_) return now_;
  now_ = std::max(now_, clock_());
  return now_;
}

void LiveMarket::set_timer(TimestampNs at_ns, std::uint64_t id) {
  timers_.push(Timer{at_ns, timer_seq_++, id});
}

int LiveMarket::venue_index(const VenueId& id) const {
  for (std::size_t v = 0; v < venues_.size(); ++v)
    if (venues_[v]->venue().id == id) return static_cast<int>(v);
  return -1;
}

const md::BookView* LiveMarket::book(std::size_t v, const InstrumentId& instrument) const {
  if (v >= venues_.size()) return nullptr;
  const int listing = venues_[v]->listing_index(instrument);
  return listing < 0 ? nullptr : &venues_[v]->book(static_cast<std::size_t>(listing));
}

bool LiveMarket::all_open() const {
  return std::all_of(venues_.begin(), venues_.end(),
                     [](const auto& v) { return v->state() == VenueState::Open; });
}

std::vector<std::string> LiveMarket::take_notes() {
  std::vector<std::string> out;
  for (auto& v : venues_)
    for (auto& n : v->take_notes()) out.push_back(std::move(n));
  return out;
}

std::size_t LiveMarket::pump(TimestampNs now_ns, std::size_t max_timers) {
  now_ = std::max(now_, now_ns);
  pumping_ = true;
  delivered_ = 0;
  for (pumping_venue_ = 0; pumping_venue_ < venues_.size(); ++pumping_venue_)
    venues_[pumping_venue_]->poll(now_, *this);
  // Timers due by now, earliest first; one set for now by a timer fires in this call too (within the bound).
  std::size_t fired = 0;
  while (!timers_.empty() && timers_.top().at_ns <= now_ && fired < max_timers) {
    const Timer t = timers_.top();
    timers_.pop();
    ++fired;
    if (listener_ != nullptr) listener_->on_timer(t.id, now_);
  }
  pumping_ = false;
  return delivered_ + fired;
}

void LiveMarket::on_market_event(std::size_t listing, const md::Event& event) {
  ++delivered_;
  if (listener_ == nullptr) return;
  const BinanceSpotMarket& venue = *venues_[pumping_venue_];
  md::MarketRef ref;
  ref.venue = pumping_venue_;
  ref.market = listing;
  ref.venue_id = venue.venue().id;
  ref.instrument = venue.venue().listings[listing].instrument;
  ref.book = &venue.book(listing);
  listener_->on_market_data(ref, event);
}

}  // namespace tranche::gateway
