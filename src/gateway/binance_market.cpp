#include "gateway/binance_market.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>

#include "gateway/binance_protocol.hpp"
#include "gateway/binance_session.hpp"
#include "gateway/net.hpp"

namespace tranche::gateway {

namespace {

TimestampNs wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A bad message's text, shortened for a log line.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 120;
  std::string out(text.substr(0, kMax));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (text.size() > kMax) out += "...";
  return out;
}

constexpr std::size_t kMaxNotes = 64;
constexpr const char* kStreams[] = {"@depth@100ms", "@trade", "@bookTicker"};
constexpr std::string_view kMarkPriceStream = "@markPrice@1s";

// A markPriceUpdate's mark price ("p", a decimal string):
// {"stream":"ethusdt@markPrice@1s","data":{...,"p":"2600.10",..}}.
bool read_mark_price(std::string_view text, Price& out) {
  constexpr std::string_view kKey = "\"p\":\"";
  const std::size_t at = text.find(kKey);
  if (at == std::string_view::npos) return false;
  const std::size_t start = at + kKey.size();
  const std::size_t end = text.find('"', start);
  return end != std::string_view::npos && Price::parse(text.substr(start, end - start), out) &&
         out.is_positive();
}

}  // namespace

// --- the network side: the stream's WebSocket and the snapshots' HTTPS, on the I/O thread ---

struct BinanceMarket::Network final : SnapshotFetcher {
  // What the I/O thread's callbacks reach: the market, until stop() lets go of it (under the mutex, so
  // no callback runs while the market is being destroyed).
  struct Link {
    std::mutex mutex;
    BinanceMarket* market = nullptr;
    std::condition_variable changed;
    bool opened = false;
    std::string last_why;
  };

  Network(net::IoThread& i, std::shared_ptr<net::asio::ssl::context> t, net::Url rest_url,
          std::chrono::milliseconds timeout)
      : io(i), tls(std::move(t)), link(std::make_shared<Link>()), request_timeout(timeout) {
    rest = std::make_shared<net::HttpsClient>(io, tls, std::move(rest_url));
  }

  void fetch(std::size_t listing, const std::string& symbol, std::uint64_t ticket) override {
    net::HttpRequest request;
    request.target = depth_path + "?symbol=" + symbol + "&limit=" + std::to_string(snapshot_limit);
    request.timeout = request_timeout;
    io.post([rest = rest, link = link, request = std::move(request), listing, ticket]() mutable {
      rest->request(std::move(request), [link, listing, ticket](net::HttpResponse r) {
        std::int64_t retry = 0;
        const std::string_view header = r.header("retry-after");
        (void)std::from_chars(header.data(), header.data() + header.size(), retry);
        std::lock_guard lock(link->mutex);
        if (link->market == nullptr) return;
        link->market->on_snapshot_answer(listing, ticket, r.status, retry, r.status == 0 ? r.error : r.body,
                                         wall_ns());
      });
    });
  }

  void stop() {
    {
      std::lock_guard lock(link->mutex);
      link->market = nullptr;
    }
    if (ws) ws->stop();
    io.post([rest = rest] { rest->close(); });
  }

  net::IoThread& io;
  std::shared_ptr<net::asio::ssl::context> tls;
  std::shared_ptr<Link> link;
  std::chrono::milliseconds request_timeout;
  int snapshot_limit = 1000;
  std::string depth_path = "/api/v3/depth";  // futures: /fapi/v1/depth (USD-M), /dapi/v1/depth (COIN-M)
  std::shared_ptr<net::HttpsClient> rest;
  std::shared_ptr<net::WsClient> ws;
};

Result<std::unique_ptr<BinanceMarket>> BinanceMarket::start(const VenueConfig& venue, NetworkThread& network,
                                                            const BinanceMarketOptions& options) {
  if (!venue.binance)
    return make_error(venue.id.str() + " has no [venue.binance]: its market cannot be heard");
  const VenueBinanceConfig& cfg = *venue.binance;
  if (venue.listings.empty()) return make_error(venue.id.str() + " lists nothing: no market to hear");
  if (venue.market != "spot" && venue.market != "usdm" && venue.market != "coinm")
    return make_error(venue.id.str() + ": market \"" + venue.market +
                      "\" is not one of Binance's (spot, usdm, coinm)");
  for (const auto& l : venue.listings)
    if (l.inverse != (venue.market == "coinm"))
      return make_error(venue.id.str() + ": " + l.symbol +
                        (l.inverse ? " is an inverse contract, which only COIN-M lists"
                                   : " is not an inverse contract, and COIN-M lists only those"));
  auto tls = net::make_client_tls(cfg.ca_file);
  if (!tls) return make_error(venue.id.str() + ": " + tls.error().message);
  auto rest_url = net::parse_url(cfg.rest_url);
  if (!rest_url) return make_error(venue.id.str() + ": rest_url: " + rest_url.error().message);
  auto stream_url = net::parse_url(cfg.stream_url);
  if (!stream_url) return make_error(venue.id.str() + ": stream_url: " + stream_url.error().message);

  std::unique_ptr<BinanceMarket> market(new BinanceMarket(venue, options, nullptr));
  const auto timeout = std::chrono::milliseconds(cfg.request_timeout_ns / kNanosPerMilli);
  auto net = std::make_unique<Network>(network.io(), std::move(tls).value(), *rest_url, timeout);
  net->snapshot_limit = options.snapshot_limit;
  if (venue.market != "spot") net->depth_path = venue.market == "usdm" ? "/fapi/v1/depth" : "/dapi/v1/depth";
  net->link->market = market.get();
  // The combined stream of every listing, under the URL's own path ("wss://host:9443" -> "/stream?...").
  net::Url url = *stream_url;
  std::string base = url.target == "/" ? std::string() : url.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  url.target = base + market->stream_target();

  net::WsClient::Options ws_options;
  ws_options.reconnect_min = std::chrono::milliseconds(cfg.reconnect_min_ns / kNanosPerMilli);
  ws_options.reconnect_max = std::chrono::milliseconds(cfg.reconnect_max_ns / kNanosPerMilli);
  ws_options.handshake_timeout = timeout;
  ws_options.seed = options.seed;
  ws_options.max_message_bytes = options.depth.max_message_bytes + 1;  // a longer one is refused (a drop)
  net::WsClient::Handlers handlers;
  std::weak_ptr<Network::Link> weak = net->link;
  handlers.on_open = [weak] {
    if (auto link = weak.lock()) {
      std::lock_guard lock(link->mutex);
      link->opened = true;
      link->changed.notify_all();
      if (link->market != nullptr) link->market->on_open(wall_ns());
    }
  };
  handlers.on_message = [weak](std::string_view text) {
    if (auto link = weak.lock()) {
      std::lock_guard lock(link->mutex);
      if (link->market != nullptr) link->market->on_stream_message(text, wall_ns());
    }
  };
  handlers.on_close = [weak](const std::string& why) {
    if (auto link = weak.lock()) {
      std::lock_guard lock(link->mutex);
      link->last_why = why;
      link->changed.notify_all();
      if (link->market != nullptr) link->market->on_close(why, wall_ns());
    }
  };
  net->ws = std::make_shared<net::WsClient>(network.io(), net->tls, url, ws_options, std::move(handlers));
  market->fetcher_ = net.get();
  market->network_ = std::move(net);
  market->network_->ws->start();

  Network::Link& link = *market->network_->link;
  std::unique_lock lock(link.mutex);
  if (!link.changed.wait_for(lock, timeout, [&] { return link.opened; })) {
    const std::string why = link.last_why;
    lock.unlock();
    market->stop();
    return make_error(venue.id.str() + ": the market streams at " + cfg.stream_url + " did not open within " +
                      std::to_string(timeout.count()) + " ms" + (why.empty() ? "" : ": " + why));
  }
  return market;
}

// --- the market ---

BinanceMarket::BinanceMarket(const VenueConfig& venue, const BinanceMarketOptions& options,
                             SnapshotFetcher* fetcher)
    : venue_(venue), options_(options), fetcher_(fetcher) {
  listings_.reserve(venue_.listings.size());
  for (std::size_t i = 0; i < venue_.listings.size(); ++i) {
    const VenueListing& l = venue_.listings[i];
    BinanceDepthOptions depth = options_.depth;
    depth.stream = static_cast<std::uint16_t>(i);
    depth.futures = venue_.market == "usdm" || venue_.market == "coinm";
    Listing listing;
    listing.symbol = l.symbol;
    listing.lower = binance::stream_symbol(l.symbol);
    listing.sync = std::make_unique<BinanceDepthSync>(l, depth);
    listings_.push_back(std::move(listing));
  }
  // Warm: slots for a burst, each able to hold a depth diff without growing.
  queue_.resize(256);
  taken_.resize(256);
  for (auto* slots : {&queue_, &taken_})
    for (Slot& s : *slots) s.text.reserve(4096);
}

BinanceMarket::~BinanceMarket() {
  stop();
}

void BinanceMarket::stop() {
  if (network_) network_->stop();
}

void BinanceMarket::drop_connection() {
  if (network_ && network_->ws) network_->ws->drop("dropped on request");
}

int BinanceMarket::listing_index(const InstrumentId& instrument) const {
  for (std::size_t i = 0; i < venue_.listings.size(); ++i)
    if (venue_.listings[i].instrument == instrument) return static_cast<int>(i);
  return -1;
}

std::string BinanceMarket::stream_target() const {
  std::string target = "/stream?streams=";
  bool first = true;
  for (const Listing& l : listings_) {
    for (const char* suffix : kStreams) {
      if (!first) target += '/';
      first = false;
      target += l.lower;
      target += suffix;
    }
    if (venue_.market != "spot") {  // futures: the mark price too, every second
      target += '/';
      target += l.lower;
      target += kMarkPriceStream;
    }
  }
  return target;
}

VenueState BinanceMarket::state() const {
  if (!connected_) return VenueState::Disconnected;
  for (const Listing& l : listings_)
    if (!l.sync->valid()) return VenueState::PreOpen;
  return VenueState::Open;
}

std::vector<std::string> BinanceMarket::take_notes() {
  std::vector<std::string> out;
  out.swap(notes_);
  return out;
}

void BinanceMarket::note(std::string text) {
  if (notes_.size() < kMaxNotes) notes_.push_back(venue_.id.str() + " market data: " + std::move(text));
}

void BinanceMarket::error(std::string text) {
  last_error_ = std::move(text);
}

// --- the queue (any thread in, the kernel thread out) ---

void BinanceMarket::push(Kind kind, std::uint32_t listing, std::string_view text, TimestampNs recv_ns,
                         int http_status, std::int64_t retry_after_s, std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  // Only stream messages are ever dropped: connection changes and snapshot answers are few.
  if (kind == Kind::Message && queued_ >= options_.max_queued) {
    ++dropped_;
    return;
  }
  if (queued_ == queue_.size()) queue_.emplace_back();
  Slot& s = queue_[queued_++];
  s.kind = kind;
  s.listing = listing;
  s.http_status = http_status;
  s.retry_after_s = retry_after_s;
  s.ticket = ticket;
  s.recv_ns = recv_ns;
  // A message longer than a book reads is cut one byte past that: the book refuses it as too large.
  const std::size_t cap = options_.depth.max_message_bytes + 1;
  if (kind == Kind::Message && text.size() > cap) {
    ++too_large_;
    text = text.substr(0, cap);
  }
  s.size = text.size();
  s.text.resize(text.size() + BinanceDepthSync::kJsonPadding);  // within its capacity once warm
  if (!text.empty()) std::memcpy(s.text.data(), text.data(), text.size());
}

void BinanceMarket::on_open(TimestampNs recv_ns) {
  push(Kind::Open, 0, {}, recv_ns);
}

void BinanceMarket::on_stream_message(std::string_view text, TimestampNs recv_ns) {
  push(Kind::Message, 0, text, recv_ns);
}

void BinanceMarket::on_close(std::string_view why, TimestampNs recv_ns) {
  push(Kind::Close, 0, why, recv_ns);
}

void BinanceMarket::on_snapshot_answer(std::size_t listing, std::uint64_t ticket, int http_status,
                                       std::int64_t retry_after_s, std::string_view body,
                                       TimestampNs recv_ns) {
  push(Kind::Snapshot, static_cast<std::uint32_t>(listing), body, recv_ns, http_status, retry_after_s,
       ticket);
}

std::size_t BinanceMarket::poll(TimestampNs now_ns, MarketEventSink& sink) {
  std::size_t n = 0;
  std::uint64_t dropped = 0, too_large = 0;
  {
    std::lock_guard lock(mutex_);
    queue_.swap(taken_);
    n = queued_;
    queued_ = 0;
    dropped = dropped_;
    too_large = too_large_;
    dropped_ = too_large_ = 0;
  }
  if (dropped > 0) {
    stats_.dropped += dropped;
    error(std::to_string(dropped) + " stream messages dropped: the kernel thread fell behind");
    note(last_error_);
  }
  stats_.too_large += too_large;
  for (std::size_t i = 0; i < n; ++i) take(taken_[i], now_ns, sink);
  ask_snapshots(now_ns);
  // Bad messages said at most once a second, with how many there were.
  if (errors_unsaid_ > 0 && now_ns - last_error_note_ns_ >= kNanosPerSecond) {
    note(std::to_string(errors_unsaid_) + " bad message" + (errors_unsaid_ == 1 ? "" : "s") +
         ", the last: " + last_error_);
    errors_unsaid_ = 0;
    last_error_note_ns_ = now_ns;
  }
  return n;
}

void BinanceMarket::take(const Slot& slot, TimestampNs now_ns, MarketEventSink& sink) {
  const std::string_view text(slot.text.data(), slot.size);
  switch (slot.kind) {
    case Kind::Open:
      connected_ = true;
      ++connection_;
      opened_ns_ = slot.recv_ns;
      ++stats_.connects;
      note("stream open (" + std::to_string(listings_.size()) + " listing" +
           (listings_.size() == 1 ? "" : "s") + "); the books sync from snapshots");
      return;
    case Kind::Close:
      ++connection_;  // a snapshot asked for before is not applied after
      error(std::string(text));
      if (!connected_) {
        note("stream not open: " + std::string(text));
        return;
      }
      connected_ = false;
      ++stats_.disconnects;
      note("stream dropped (" + std::string(text) + "): every book invalid until it re-syncs");
      for (std::size_t i = 0; i < listings_.size(); ++i) {
        listings_[i].sync->on_disconnect(slot.recv_ns);
        deliver(i, sink);
      }
      return;
    case Kind::Message:
      return take_message(slot, sink);
    case Kind::Snapshot:
      return take_snapshot(slot, now_ns, sink);
  }
}

// The listing a combined-stream message is for: {"stream":"ethusdt@depth@100ms","data":{...}}.
int BinanceMarket::route(std::string_view text) const {
  constexpr std::string_view kKey = "\"stream\"";
  const std::size_t key = text.find(kKey);
  if (key == std::string_view::npos) return -1;
  std::size_t at = key + kKey.size();
  while (at < text.size() && (text[at] == ' ' || text[at] == ':' || text[at] == '\t')) ++at;
  if (at >= text.size() || text[at] != '"') return -1;
  const std::string_view name = text.substr(at + 1);
  for (std::size_t i = 0; i < listings_.size(); ++i) {
    const std::string& l = listings_[i].lower;
    if (name.size() > l.size() && name.compare(0, l.size(), l) == 0 && name[l.size()] == '@')
      return static_cast<int>(i);
  }
  return -1;
}

void BinanceMarket::take_message(const Slot& slot, MarketEventSink& sink) {
  const std::string_view text(slot.text.data(), slot.size);
  ++stats_.messages;
  const int listing = route(text);
  if (listing < 0) {
    ++stats_.unrouted;
    ++errors_unsaid_;
    error("a message on none of our streams: " + excerpt(text));
    return;
  }
  Listing& l = listings_[static_cast<std::size_t>(listing)];
  // The stream name leads a combined message: only its start is looked at.
  if (text.substr(0, 96).find(kMarkPriceStream) != std::string_view::npos) {
    Price mark;
    if (!read_mark_price(text, mark)) {
      ++stats_.bad_messages;
      ++errors_unsaid_;
      error(l.symbol + ": a mark price that cannot be read: " + excerpt(text));
      return;
    }
    l.mark = mark;
    l.mark_ns = slot.recv_ns;
    ++stats_.mark_prices;
    return;
  }
  const DepthStatus status = l.sync->on_message(text, slot.text.size(), slot.recv_ns);
  if (is_error(status)) {
    ++stats_.bad_messages;
    ++errors_unsaid_;
    error(l.symbol + ": " + to_string(status) + ": " + std::string(l.sync->last_error()));
  } else if (tap_ != nullptr) {
    tap_->on_market_message(static_cast<std::size_t>(listing), text, slot.recv_ns);
  }
  deliver(static_cast<std::size_t>(listing), sink);
}

void BinanceMarket::take_snapshot(const Slot& slot, TimestampNs now_ns, MarketEventSink& sink) {
  if (slot.listing >= listings_.size()) return;
  Listing& l = listings_[slot.listing];
  if (slot.ticket != l.ticket) return;  // not the one asked for last
  l.in_flight = false;
  const std::string_view body(slot.text.data(), slot.size);
  if (!connected_ || l.ticket_connection != connection_) {
    ++stats_.snapshots_stale;
    return;
  }
  if (slot.http_status == 429 || slot.http_status == 418) {
    ++stats_.rate_limited;
    ++stats_.snapshots_failed;
    const std::int64_t seconds =
        slot.retry_after_s > 0 ? slot.retry_after_s : (slot.http_status == 418 ? 120 : 60);
    l.not_before_ns = now_ns + seconds * kNanosPerSecond;
    error(l.symbol + " snapshot: the venue answered " + std::to_string(slot.http_status) + ": none for " +
          std::to_string(seconds) + " s");
    note(last_error_);
    return;
  }
  if (slot.http_status != 200) {
    ++stats_.snapshots_failed;
    error(l.symbol + " snapshot: " +
          (slot.http_status == 0 ? std::string(body)
                                 : "HTTP " + std::to_string(slot.http_status) + ": " + excerpt(body)));
    note(last_error_);
    return;
  }
  const DepthStatus status = l.sync->on_snapshot(body, slot.recv_ns);
  if (status == DepthStatus::Synced) {
    ++stats_.snapshots_applied;
    note(l.symbol + " book synced at update id " + std::to_string(l.sync->update_id()));
    if (tap_ != nullptr) tap_->on_market_message(slot.listing, body, slot.recv_ns);
  } else {
    ++stats_.snapshots_failed;
    error(l.symbol + " snapshot: " + to_string(status) + ": " + std::string(l.sync->last_error()));
    note(last_error_);
  }
  deliver(slot.listing, sink);
}

void BinanceMarket::deliver(std::size_t listing, MarketEventSink& sink) {
  Listing& l = listings_[listing];
  if (const md::Event* e = l.sync->event()) {
    ++stats_.events;
    sink.on_market_event(listing, *e);
  }
  const bool valid = l.sync->valid();
  if (l.was_valid && !valid && connected_)
    note(l.symbol + " book invalid (" +
         (l.sync->last_error().empty() ? std::string("a gap in its diffs")
                                       : std::string(l.sync->last_error())) +
         "): re-syncing");
  l.was_valid = valid;
}

void BinanceMarket::ask_snapshots(TimestampNs now_ns) {
  if (!connected_ || fetcher_ == nullptr) return;
  for (std::size_t i = 0; i < listings_.size(); ++i) {
    Listing& l = listings_[i];
    if (!l.sync->needs_snapshot() || l.in_flight || now_ns < l.not_before_ns) continue;
    if (l.last_request_ns != 0 && now_ns - l.last_request_ns < options_.snapshot_interval_ns) continue;
    // Once the stream's diffs are buffered (the snapshot must bridge them), or a quiet market's after a
    // while.
    if (l.sync->buffered_diffs() == 0 && now_ns - opened_ns_ < options_.quiet_snapshot_after_ns) continue;
    l.in_flight = true;
    l.ticket = ++next_ticket_;
    l.ticket_connection = connection_;
    l.last_request_ns = now_ns;
    ++stats_.snapshots_requested;
    fetcher_->fetch(i, l.symbol, l.ticket);
  }
}

}  // namespace tranche::gateway
