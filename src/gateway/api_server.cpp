#include "gateway/api_server.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <charconv>
#include <chrono>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

namespace tranche::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

const char* to_string(ApiRole role) {
  switch (role) {
    case ApiRole::Viewer:
      return "viewer";
    case ApiRole::Trader:
      return "trader";
    case ApiRole::Admin:
      return "admin";
  }
  return "viewer";
}

bool parse_api_role(std::string_view text, ApiRole& out) {
  if (text == "viewer")
    out = ApiRole::Viewer;
  else if (text == "trader")
    out = ApiRole::Trader;
  else if (text == "admin")
    out = ApiRole::Admin;
  else
    return false;
  return true;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

Result<std::string> new_api_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return make_error("the system's random generator failed");
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& self_origins,
                    const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const auto& o : self_origins)
    if (origin == o) return true;
  for (const auto& o : allowed)
    if (origin == o) return true;
  return false;
}

namespace {

std::string error_json(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump();
}

std::string_view header(const http::request<http::string_body>& request, http::field field) {
  auto it = request.find(field);
  if (it == request.end()) return {};
  return {it->value().data(), it->value().size()};
}

// The token of an "Authorization: Bearer TOKEN" header; empty when there is none.
std::string_view bearer_of(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size()) return {};
  for (std::size_t i = 0; i < kBearer.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i])))
      return {};
  return authorization.substr(kBearer.size());
}

}  // namespace

// A session's answer writer, looked up by call id when the kernel answers.
struct Responder {
  virtual ~Responder() = default;
  virtual void write_reply(ApiReply reply) = 0;
};
// A stream client, fed every event.
struct StreamClient {
  virtual ~StreamClient() = default;
  virtual void push(const std::shared_ptr<const std::string>& event) = 0;
  virtual void close_now() = 0;
};

// The handlers it posts hold it by plain pointer, never by shared_ptr: it owns the io_context that holds
// them, so a shared_ptr in a pending handler would keep both alive for ever (ApiServer's destructor destroys
// them together).
struct ApiServer::Impl {
  template <class Stream>
  class HttpSession;
  template <class Stream>
  class WsSession;

  // One open connection, counted while it lives (it moves from the HTTP session to the WebSocket).
  struct Slot {
    explicit Slot(Impl& i) : impl(i) { impl.connections_open.fetch_add(1); }
    ~Slot() { impl.connections_open.fetch_sub(1); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Impl& impl;
  };

  Impl(ApiConfig c, Handlers h) : config(std::move(c)), handlers(std::move(h)) {}
  ~Impl() {
    if (!wake_assigned && wake_fd >= 0) ::close(wake_fd);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ApiConfig config;
  Handlers handlers;
  std::vector<std::string> self_origins;
  std::map<std::string, std::pair<std::string, ApiRole>> tokens;  // sha256 -> name, role
  std::atomic<std::uint64_t> connections_open{0}, connections_refused{0}, requests{0}, unauthorized{0},
      forbidden_origin{0}, bad_requests{0}, stream_clients{0}, stream_dropped_slow{0}, events_published{0},
      events_lost{0};
  // Events from the kernel's thread (the one producer) to this one: a push is a few stores, with no lock the
  // I/O thread could hold while the machine has it waiting, and no system call to wake it: it drains the
  // queue every kDrainEvery instead. Owning pointers, so neither side copies an event.
  struct Queued {
    std::uint64_t seq;
    std::string json;
  };
  static constexpr std::size_t kQueueCapacity = 65536;
  static constexpr std::chrono::milliseconds kDrainEvery{2};
  boost::lockfree::spsc_queue<Queued*> from_kernel{kQueueCapacity};
  // Answers, from any thread (the kernel's, or a test's), through a lock-free queue too; each wakes this
  // thread at once through an eventfd (a write, no lock of ours or of the io_context's).
  struct QueuedReply {
    std::uint64_t id;
    ApiReply reply;
  };
  boost::lockfree::queue<QueuedReply*> replies{1024};
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::uint64_t wake_count = 0;
  bool wake_assigned = false;   // then `wake` closes wake_fd
  std::uint64_t lost_told = 0;  // events_lost already told to the clients
  // The I/O thread's own.
  std::uint64_t next_id = 0;
  // Each call's session until the kernel answers (the kernel answers every call; the session has no read
  // pending meanwhile, so this is what keeps it).
  std::unordered_map<std::uint64_t, std::shared_ptr<Responder>> waiting;
  std::unordered_map<std::uint64_t, std::weak_ptr<StreamClient>> streams;
  std::deque<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> kept;  // the last events
  std::optional<ssl::context> tls;
  // Declared after what the sessions touch: the context's destructor destroys the sessions still pending.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  asio::steady_timer drain_timer{ioc};
  asio::posix::stream_descriptor wake{ioc};
  std::thread thread;
  bool stopped = false;

  void log(const std::string& line) const {
    if (handlers.log) handlers.log(line);
  }
  DurationNs idle() const { return config.idle_timeout_ns; }
  DurationNs read_timeout() const { return config.read_timeout_ns; }

  void accept() {
    acceptor.async_accept([self = this](beast::error_code ec, tcp::socket socket) {
      if (!self->acceptor.is_open()) return;
      if (!ec) {
        self->on_accept(std::move(socket));
        return self->accept();
      }
      // Out of file descriptors (or another failure of accept itself): retrying at once would spin; a
      // moment later some may have closed.
      self->log("api: accept failed (" + ec.message() + "); accepting again in 100 ms");
      self->accept_retry.expires_after(std::chrono::milliseconds(100));
      self->accept_retry.async_wait([self](beast::error_code e) {
        if (!e && self->acceptor.is_open()) self->accept();
      });
    });
  }
  void on_accept(tcp::socket socket);

  // Which token, if any, `authorization` carries.
  const std::pair<std::string, ApiRole>* authenticate(std::string_view authorization) const {
    const std::string_view token = bearer_of(authorization);
    if (token.empty()) return nullptr;
    auto it = tokens.find(sha256_hex(token));
    return it == tokens.end() ? nullptr : &it->second;
  }

  void answer_replies() {
    for (QueuedReply* r = nullptr; replies.pop(r);) {
      std::unique_ptr<QueuedReply> owned(r);
      auto it = waiting.find(owned->id);
      if (it == waiting.end()) continue;  // its connection has gone
      std::shared_ptr<Responder> session = std::move(it->second);
      waiting.erase(it);
      session->write_reply(std::move(owned->reply));
    }
  }
  void await_wake() {
    wake.async_read_some(asio::buffer(&wake_count, sizeof wake_count),
                         [this](beast::error_code ec, std::size_t) {
                           if (ec || stopped_io) return;
                           answer_replies();
                           await_wake();
                         });
  }

  // The kernel's events since the last time, to the clients in order; then again in kDrainEvery.
  void drain() {
    answer_replies();
    for (Queued* q = nullptr; from_kernel.pop(q);) {
      std::unique_ptr<Queued> owned(q);
      publish(owned->seq, std::make_shared<const std::string>(std::move(owned->json)));
    }
    if (const std::uint64_t lost = events_lost.load(); lost != lost_told) {
      // What was lost is not kept either: a client that comes back asking from before now is told a gap.
      log("api: " + std::to_string(lost - lost_told) +
          " events lost (the kernel's queue to the API thread was full); every stream client is told to "
          "reload");
      lost_told = lost;
      kept.clear();
      const auto gap =
          std::make_shared<const std::string>(nlohmann::ordered_json{{"type", "gap"}, {"lost", lost}}.dump());
      for (const auto& client : live_clients()) client->push(gap);
    }
  }
  void drain_every() {
    drain_timer.expires_after(kDrainEvery);
    drain_timer.async_wait([this](beast::error_code ec) {
      if (ec || stopped_io) return;
      drain();
      drain_every();
    });
  }
  bool stopped_io = false;  // this thread's: stop() ran here

  void publish(std::uint64_t seq, std::shared_ptr<const std::string> event) {
    events_published.fetch_add(1);
    if (config.stream_keep > 0) {
      kept.emplace_back(seq, event);
      while (kept.size() > static_cast<std::size_t>(config.stream_keep)) kept.pop_front();
    }
    for (const auto& client : live_clients()) client->push(event);
  }

  // The stream clients still there, each held: a push may drop its client, which then leaves `streams`, so
  // nobody pushes while walking the map itself.
  std::vector<std::shared_ptr<StreamClient>> live_clients() {
    std::vector<std::shared_ptr<StreamClient>> clients;
    clients.reserve(streams.size());
    for (auto it = streams.begin(); it != streams.end();) {
      if (auto client = it->second.lock()) {
        clients.push_back(std::move(client));
        ++it;
      } else {
        it = streams.erase(it);
      }
    }
    return clients;
  }
};

// --- the WebSocket event stream ---

template <class Stream>
class ApiServer::Impl::WsSession final : public StreamClient,
                                         public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Impl& impl, Stream&& stream, std::unique_ptr<Slot> slot, std::optional<std::uint64_t> from)
      : impl_(impl), ws_(std::move(stream)), slot_(std::move(slot)), from_(from), auth_timer_(impl.ioc) {}

  void accept(http::request<http::string_body> request, const std::pair<std::string, ApiRole>* who) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(static_cast<std::size_t>(impl_.config.max_body_bytes));
    if (who != nullptr) name_ = who->first;
    ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->open_ = true;
      if (!self->name_.empty()) {
        self->begin();
      } else {
        // A browser cannot set the header: its first message carries the token, within the read timeout.
        self->auth_timer_.expires_after(std::chrono::nanoseconds(self->impl_.read_timeout()));
        self->auth_timer_.async_wait([self](beast::error_code e) {
          if (!e && self->name_.empty()) self->close_with(4401, "no token");
        });
      }
      self->read();
    });
  }

  void push(const std::shared_ptr<const std::string>& event) override {
    if (closing_ || !streaming_) return;
    // What the server queued itself on connecting (the hello and the catch-up) is not the client's delay.
    const std::size_t waiting = queue_.size() - catch_up_;
    if (waiting >= static_cast<std::size_t>(impl_.config.stream_queue)) {
      impl_.stream_dropped_slow.fetch_add(1);
      impl_.log("api: stream client '" + name_ + "' dropped: " + std::to_string(waiting) +
                " events waiting (too slow)");
      return close_with(4008, "too slow: events not read");
    }
    queue_.push_back(event);
    if (!writing_) write_next();
  }

  void close_now() override {
    close_with(static_cast<std::uint16_t>(websocket::close_code::going_away), "stopping");
  }

  ~WsSession() override {
    if (streaming_) impl_.stream_clients.fetch_sub(1);
  }

 private:
  void begin() {
    auth_timer_.cancel();
    streaming_ = true;
    impl_.stream_clients.fetch_add(1);
    impl_.streams[reinterpret_cast<std::uintptr_t>(this)] = this->shared_from_this();
    const std::uint64_t first_kept = impl_.kept.empty() ? 0 : impl_.kept.front().first;
    const std::uint64_t last = impl_.kept.empty() ? 0 : impl_.kept.back().first;
    nlohmann::ordered_json hello{
        {"type", "hello"}, {"token", name_}, {"first_kept", first_kept}, {"last", last}};
    queue_.push_back(std::make_shared<const std::string>(hello.dump()));
    if (from_) {
      // Seqs start at 1: a gap is a seq asked for that is no longer kept.
      if (std::max<std::uint64_t>(*from_, 1) < first_kept) {
        // Older than what is kept: the client reloads the state over REST (docs/api.md).
        nlohmann::ordered_json gap{{"type", "gap"}, {"from", *from_}, {"first_kept", first_kept}};
        queue_.push_back(std::make_shared<const std::string>(gap.dump()));
      }
      for (const auto& [seq, event] : impl_.kept)
        if (seq >= *from_) queue_.push_back(event);
    }
    catch_up_ = queue_.size();
    write_next();
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->gone();
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      if (self->name_.empty()) {
        const auto j = nlohmann::json::parse(text, nullptr, false);
        const std::string token = j.is_object() && j.contains("token") && j["token"].is_string()
                                      ? j["token"].get<std::string>()
                                      : "";
        const auto* who = self->impl_.authenticate("Bearer " + token);
        if (who == nullptr) {
          self->impl_.unauthorized.fetch_add(1);
          self->impl_.log("api: 401 stream from " + self->remote() + ": " +
                          (token.empty() ? "no token" : "a token that matches none"));
          return self->close_with(4401, "unauthorized");
        }
        self->name_ = who->first;
        self->begin();
      }
      // After the token a client's messages are read and left: the stream only speaks.
      self->read();
    });
  }

  void write_next() {
    if (closing_ || !open_ || queue_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    if (queue_.size() == 1) {
      ws_.async_write(asio::buffer(*queue_.front()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || self->closing_) return self->gone();  // closing emptied the queue
                        self->written(1);
                      });
      return;
    }
    // Behind: what waits goes as one message, a JSON array of them (a write and a frame per batch, not per
    // event), so a busy stream costs its thread less the more it has to catch up.
    const std::size_t n = std::min<std::size_t>(queue_.size(), kMaxBatch);
    batch_.clear();
    batch_.push_back('[');
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) batch_.push_back(',');
      batch_ += *queue_[i];
    }
    batch_.push_back(']');
    ws_.async_write(asio::buffer(batch_),
                    [self = this->shared_from_this(), n](beast::error_code ec, std::size_t) {
                      if (ec || self->closing_) return self->gone();
                      self->written(n);
                    });
  }
  static constexpr std::size_t kMaxBatch = 256;

  // The first `n` waiting went out: the next.
  void written(std::size_t n) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    catch_up_ -= std::min(catch_up_, n);
    write_next();
  }

  void close_with(std::uint16_t code, const char* why) {
    if (closing_) return;
    closing_ = true;
    queue_.clear();
    catch_up_ = 0;
    impl_.streams.erase(reinterpret_cast<std::uintptr_t>(this));
    auth_timer_.cancel();
    if (!open_) return;
    websocket::close_reason reason;
    reason.code = code;
    reason.reason = why;
    ws_.async_close(reason, [self = this->shared_from_this()](beast::error_code) {});
  }

  void gone() {
    closing_ = true;
    queue_.clear();
    catch_up_ = 0;
    impl_.streams.erase(reinterpret_cast<std::uintptr_t>(this));
    auth_timer_.cancel();
  }

  std::string remote() {
    beast::error_code ec;
    auto endpoint = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    return ec ? std::string("?") : endpoint.address().to_string();
  }

  Impl& impl_;
  websocket::stream<Stream> ws_;
  std::unique_ptr<Slot> slot_;
  std::optional<std::uint64_t> from_;
  asio::steady_timer auth_timer_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t catch_up_ = 0;  // of queue_'s front, what begin() queued (at most stream_keep + 2)
  std::string batch_;         // the message being written when several events went as one
  std::string name_;
  bool open_ = false, writing_ = false, closing_ = false, streaming_ = false;
};

// --- HTTP ---

template <class Stream>
class ApiServer::Impl::HttpSession final : public Responder,
                                           public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Impl& impl, Stream&& stream, std::unique_ptr<Slot> slot, std::string remote)
      : impl_(impl), stream_(std::move(stream)), slot_(std::move(slot)), remote_(std::move(remote)) {}

  void start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.read_timeout()));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

  void write_reply(ApiReply reply) override {
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(version_);
    out->result(static_cast<http::status>(reply.status));
    out->set(http::field::server, "tranche");
    out->set(http::field::content_type, reply.content_type);
    out->set(http::field::cache_control, "no-store");
    out->set("X-Content-Type-Options", "nosniff");
    if (!cors_origin_.empty()) {
      out->set(http::field::access_control_allow_origin, cors_origin_);
      out->set(http::field::vary, "Origin");
    }
    if (reply.status == 401) out->set(http::field::www_authenticate, "Bearer");
    for (const auto& [name, value] : extra_headers_) out->set(name, value);
    extra_headers_.clear();
    if (reply.status == 204) {
      out->set(http::field::access_control_allow_methods, "GET, POST, PATCH, DELETE, OPTIONS");
      out->set(http::field::access_control_allow_headers, "Authorization, Content-Type");
      out->set(http::field::access_control_max_age, "600");
    }
    out->keep_alive(keep_alive_);
    out->body() = std::move(reply.body);
    out->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.read_timeout()));
    http::async_write(stream_, *out,
                      [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (self->keep_alive_)
                          self->read();
                        else
                          self->shutdown();
                      });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(impl_.config.max_body_bytes));
    parser_->header_limit(16 * 1024);
    cors_origin_.clear();
    // Waiting for the next request and reading it: a connection idle (or trickling) this long is closed.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.idle()));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void refuse(int status, std::string message) {
    keep_alive_ = false;
    write_reply({status, "application/json", error_json(message)});
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == ssl::error::stream_truncated)
      return shutdown();
    if (ec == http::error::body_limit) {
      impl_.bad_requests.fetch_add(1);
      return refuse(413, "the body is over " + std::to_string(impl_.config.max_body_bytes) + " bytes");
    }
    if (ec) {
      if (ec.category() != http::make_error_code(http::error::bad_target).category()) return;  // the socket
      impl_.bad_requests.fetch_add(1);
      return refuse(400, std::string("malformed HTTP: ") + ec.message());
    }
    http::request<http::string_body> request = parser_->release();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    impl_.requests.fetch_add(1);
    const std::string_view target(request.target().data(), request.target().size());
    const std::size_t q = target.find('?');
    const std::string path(target.substr(0, q));
    const std::string query(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
    const std::string_view origin = header(request, http::field::origin);
    if (!origin_allowed(origin, impl_.self_origins, impl_.config.allowed_origins)) {
      impl_.forbidden_origin.fetch_add(1);
      impl_.log("api: 403 " + std::string(request.method_string()) + " " + path + " from " + remote_ +
                ": Origin " + std::string(origin) + " is not allowed");
      return refuse(403, "Origin " + std::string(origin) + " is not allowed");
    }
    bool self_origin = false;
    for (const auto& o : impl_.self_origins) self_origin = self_origin || origin == o;
    if (!origin.empty() && !self_origin) cors_origin_ = std::string(origin);
    if (request.method() == http::verb::options) return write_reply({204, "text/plain", ""});
    const auto* who = impl_.authenticate(header(request, http::field::authorization));
    if (websocket::is_upgrade(request)) {
      if (path != "/api/v1/stream") return refuse(404, "no WebSocket at " + path);
      if (who == nullptr && !header(request, http::field::authorization).empty()) {
        impl_.unauthorized.fetch_add(1);
        impl_.log("api: 401 stream from " + remote_ + ": a token that matches none");
        return refuse(401, "the bearer token matches none");
      }
      std::optional<std::uint64_t> from;
      for (std::size_t at = 0; at < query.size();) {
        std::size_t end = query.find('&', at);
        if (end == std::string::npos) end = query.size();
        const std::string_view item(query.data() + at, end - at);
        if (item.rfind("from=", 0) == 0) {
          std::uint64_t v = 0;
          auto [p, e] = std::from_chars(item.data() + 5, item.data() + item.size(), v);
          if (e != std::errc() || p != item.data() + item.size())
            return refuse(400, "from='" + std::string(item.substr(5)) + "' is not a sequence number");
          from = v;
        }
        at = end + 1;
      }
      auto ws = std::make_shared<WsSession<Stream>>(impl_, std::move(stream_), std::move(slot_), from);
      ws->accept(std::move(request), who);
      return;
    }
    if (path == "/healthz" && request.method() == http::verb::get)
      return write_reply({200, "application/json", "{\"status\":\"ok\"}"});
    if (request.method() == http::verb::get || request.method() == http::verb::head) {
      if (auto it = impl_.handlers.static_files.find(path); it != impl_.handlers.static_files.end()) {
        if (it->second.content_type.rfind("text/html", 0) == 0) {
          // The page may talk to this server alone (its API and stream), load nothing else, and not be
          // framed.
          extra_headers_ = {{"Content-Security-Policy",
                             "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                             "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
                             "form-action 'none'"},
                            {"X-Frame-Options", "DENY"},
                            {"Referrer-Policy", "no-referrer"}};
        }
        return write_reply({200, it->second.content_type, it->second.body});
      }
    }
    // Only the API and the metrics hold data; past the public files above there is nothing else.
    if (path.rfind("/api/", 0) != 0 && path != "/metrics")
      return write_reply({404, "application/json", error_json("nothing at " + path)});
    if (who == nullptr) {
      impl_.unauthorized.fetch_add(1);
      const bool none = bearer_of(header(request, http::field::authorization)).empty();
      impl_.log("api: 401 " + std::string(request.method_string()) + " " + path + " from " + remote_ + ": " +
                (none ? "no bearer token" : "a token that matches none"));
      return write_reply({401, "application/json",
                          error_json(none ? "a bearer token is required (Authorization: Bearer TOKEN)"
                                          : "the bearer token matches none")});
    }
    ApiCall call;
    call.id = ++impl_.next_id;
    call.method = std::string(request.method_string());
    call.path = path;
    call.query = query;
    call.body = std::move(request.body());
    call.token_name = who->first;
    call.role = who->second;
    call.remote = remote_;
    impl_.waiting[call.id] = this->shared_from_this();
    impl_.handlers.on_call(std::move(call));
  }

  void shutdown() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Impl& impl_;
  Stream stream_;
  std::unique_ptr<Slot> slot_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string cors_origin_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // for the next reply only
  unsigned version_ = 11;
  bool keep_alive_ = true;
};

void ApiServer::Impl::on_accept(tcp::socket socket) {
  if (connections_open.load() >= static_cast<std::uint64_t>(config.max_connections)) {
    // Over the limit: closed at once, before any byte is read (the kernel's memory never pays for it).
    connections_refused.fetch_add(1);
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string("?") : endpoint.address().to_string();
  auto slot = std::make_unique<Slot>(*this);
  if (tls) {
    using S = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<HttpSession<S>>(*this, S(std::move(socket), *tls), std::move(slot), std::move(remote))
        ->start();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)),
                                                     std::move(slot), std::move(remote))
        ->start();
  }
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() {
  stop();
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ApiConfig& config, Handlers handlers) {
  auto impl = std::make_unique<Impl>(config, std::move(handlers));
  for (const auto& t : config.tokens) {
    ApiRole role;
    if (!parse_api_role(t.role, role))
      return make_error("api token '" + t.name + "': unknown role " + t.role);
    impl->tokens[t.sha256] = {t.name, role};
  }
  // Every connection is a file descriptor: the soft limit is raised to the hard one (often 1,024 against
  // 1,048,576), so max_connections idle clients cannot starve the journal and the venues of descriptors.
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
  }
  beast::error_code ec;
  if (!config.tls_cert.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                           ec);
    impl->tls->use_certificate_chain_file(config.tls_cert, ec);
    if (ec) return make_error("[server.api] tls_cert " + config.tls_cert + ": " + ec.message());
    impl->tls->use_private_key_file(config.tls_key, ssl::context::pem, ec);
    if (ec) return make_error("[server.api] tls_key " + config.tls_key + ": " + ec.message());
  }
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) return make_error("[server.api] listen: '" + config.host + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(config.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("the HTTP API cannot listen on " + config.host + ":" + std::to_string(config.port) +
                      ": " + ec.message());
  const int port = impl->acceptor.local_endpoint(ec).port();
  const std::string scheme = impl->tls ? "https://" : "http://";
  impl->self_origins.push_back(scheme + config.host + ":" + std::to_string(port));
  if (address.is_loopback()) {
    // A browser on this machine may name loopback either way.
    impl->self_origins.push_back(scheme + "localhost:" + std::to_string(port));
    impl->self_origins.push_back(scheme + "127.0.0.1:" + std::to_string(port));
  }
  if (impl->wake_fd < 0) return make_error("the HTTP API cannot make its eventfd");
  impl->wake.assign(impl->wake_fd);
  impl->wake_assigned = true;
  impl->accept();
  impl->drain_every();
  impl->await_wake();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::string ApiServer::origin() const {
  return impl_->self_origins.front();
}

void ApiServer::respond(std::uint64_t id, ApiReply reply) {
  impl_->replies.push(new Impl::QueuedReply{id, std::move(reply)});
  const std::uint64_t one = 1;
  // Nonblocking: it fails only when the counter is about to overflow, and then the thread is awake already.
  (void)!::write(impl_->wake_fd, &one, sizeof one);
}

void ApiServer::publish(std::uint64_t seq, std::string json) {
  auto queued = std::make_unique<Impl::Queued>(Impl::Queued{seq, std::move(json)});
  if (impl_->from_kernel.push(queued.get()))
    (void)queued.release();  // the I/O thread's now
  else
    impl_->events_lost.fetch_add(1);
}

ApiServerStats ApiServer::stats() const {
  ApiServerStats s;
  s.connections_open = impl_->connections_open.load();
  s.connections_refused = impl_->connections_refused.load();
  s.requests = impl_->requests.load();
  s.unauthorized = impl_->unauthorized.load();
  s.forbidden_origin = impl_->forbidden_origin.load();
  s.bad_requests = impl_->bad_requests.load();
  s.stream_clients = impl_->stream_clients.load();
  s.stream_dropped_slow = impl_->stream_dropped_slow.load();
  s.events_published = impl_->events_published.load();
  s.events_lost = impl_->events_lost.load();
  return s;
}

void ApiServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_retry.cancel();
    impl->stopped_io = true;
    impl->drain_timer.cancel();
    // Cancelled, not closed: an answer may still come, and its write must find this eventfd, never a
    // descriptor that reused its number. It closes with the server.
    beast::error_code cancelled;
    impl->wake.cancel(cancelled);
    for (const auto& c : impl->live_clients()) c->close_now();
    impl->streams.clear();
  });
  // Close frames get a moment to leave, then the thread ends.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The thread is gone: what it held goes now, while the io_context its sockets belong to is still there.
  impl_->waiting.clear();
  impl_->streams.clear();
  impl_->kept.clear();
  for (Impl::Queued* q = nullptr; impl_->from_kernel.pop(q);) delete q;
  for (Impl::QueuedReply* r = nullptr; impl_->replies.pop(r);) delete r;
}

}  // namespace tranche::gateway
