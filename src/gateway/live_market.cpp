#include "gateway/live_market.hpp"

#include <algorithm>
#include <chrono>

namespace tranche::gateway {

namespace {
using Venues = std::vector<std::unique_ptr<BinanceMarket>>;

// What the venues' markets had to say, LiveMarket's and PaperMarket's alike.
std::vector<std::string> take_venue_notes(Venues& venues) {
  std::vector<std::string> out;
  for (auto& v : venues)
    for (auto& n : v->take_notes()) out.push_back(std::move(n));
  return out;
}

bool every_venue_open(const Venues& venues) {
  return std::all_of(venues.begin(), venues.end(),
                     [](const auto& v) { return v->state() == VenueState::Open; });
}
}  // namespace

TimestampNs LiveMarket::wall_clock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LiveMarket::LiveMarket(std::vector<std::unique_ptr<BinanceMarket>> venues, Clock clock)
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
  return every_venue_open(venues_);
}

std::vector<std::string> LiveMarket::take_notes() {
  return take_venue_notes(venues_);
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
  const BinanceMarket& venue = *venues_[pumping_venue_];
  md::MarketRef ref;
  ref.venue = pumping_venue_;
  ref.market = listing;
  ref.venue_id = venue.venue().id;
  ref.instrument = venue.venue().listings[listing].instrument;
  ref.book = &venue.book(listing);
  listener_->on_market_data(ref, event);
}

// ---------------------------------------------------------------------------------------------------------
// PaperMarket

Result<std::unique_ptr<PaperMarket>> PaperMarket::create(std::vector<std::unique_ptr<BinanceMarket>> venues,
                                                         sim::Simulator& sim) {
  if (!sim.live_feed()) return make_error("paper trading needs a simulator made for a live feed");
  // Each venue's and listing's place in the simulator, found once.
  std::vector<std::size_t> sim_venue;
  std::vector<std::vector<std::size_t>> sim_market;
  for (const auto& v : venues) {
    const int s = sim.venue_index(v->venue().id);
    if (s < 0)
      return make_error(v->venue().id.str() +
                        " is not simulated: paper trading fills its orders in the simulator, " +
                        "which needs its [venue.sim]");
    std::vector<std::size_t> markets;
    for (std::size_t l = 0; l < v->listing_count(); ++l) {
      const int m = sim.venue(static_cast<std::size_t>(s)).market_of(v->venue().listings[l].instrument);
      if (m < 0)
        return make_error(v->venue().id.str() + ": the simulator does not list " +
                          v->venue().listings[l].instrument.str());
      markets.push_back(static_cast<std::size_t>(m));
    }
    sim_venue.push_back(static_cast<std::size_t>(s));
    sim_market.push_back(std::move(markets));
  }
  return std::unique_ptr<PaperMarket>(
      new PaperMarket(std::move(venues), sim, std::move(sim_venue), std::move(sim_market)));
}

PaperMarket::PaperMarket(std::vector<std::unique_ptr<BinanceMarket>> venues, sim::Simulator& sim,
                         std::vector<std::size_t> sim_venue, std::vector<std::vector<std::size_t>> sim_market)
    : venues_(std::move(venues)),
      sim_(sim),
      sim_venue_(std::move(sim_venue)),
      sim_market_(std::move(sim_market)) {
  scratch_bids_.reserve(kMaxLevels);
  scratch_asks_.reserve(kMaxLevels);
  scratch_levels_.reserve(kMaxLevels);
}

std::size_t PaperMarket::pump(TimestampNs now_ns) {
  std::size_t taken = 0;
  for (pumping_ = 0; pumping_ < venues_.size(); ++pumping_) taken += venues_[pumping_]->poll(now_ns, *this);
  if (now_ns > sim_.now()) sim_.run_until(now_ns);
  return taken;
}

void PaperMarket::on_market_event(std::size_t listing, const md::Event& event) {
  if (event.kind != md::EventKind::BookSnapshot) {
    (void)sim_.inject(sim_venue_[pumping_], sim_market_[pumping_][listing], event);
    return;
  }
  // A sync's event is the REST snapshot alone, while its book also took the buffered diffs that followed it:
  // the simulator gets the whole book as it now stands.
  // (The book as the diffs left it, without a bookTicker's fresher touch: the simulator takes those itself.)
  const BinanceDepthSync& sync = venues_[pumping_]->book(listing);
  auto side = [&](Side s, std::vector<md::Level>& out) {
    sync.book().levels(s, kMaxLevels, scratch_levels_);
    out.clear();
    for (const md::BookLevel& l : scratch_levels_) out.push_back({l.price, l.qty});
    return std::span<const md::Level>(out.data(), out.size());
  };
  md::Event whole = event;
  whole.bids = side(Side::Buy, scratch_bids_);
  whole.asks = side(Side::Sell, scratch_asks_);
  whole.last_seq = sync.update_id();
  (void)sim_.inject(sim_venue_[pumping_], sim_market_[pumping_][listing], whole);
}

std::vector<std::string> PaperMarket::take_notes() {
  return take_venue_notes(venues_);
}

bool PaperMarket::all_open() const {
  return every_venue_open(venues_);
}

}  // namespace tranche::gateway
