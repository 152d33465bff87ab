#include "gateway/binance_venue_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <unordered_map>

namespace tranche::gateway::binance {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

TimestampNs wall_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string error_body(int code, std::string_view msg) {
  std::string o = "{\"code\":" + std::to_string(code) + ",\"msg\":\"";
  o += msg;
  o += "\"}";
  return o;
}

}  // namespace

struct BinanceVenueServer::Impl final : VenueOutput {
  class HttpSession;
  class WsSession;

  explicit Impl(VenueServerOptions o) : options(std::move(o)) {}

  VenueServerOptions options;
  net::io_context ioc{1};
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  net::steady_timer timer{ioc};
  BinanceVenue* venue = nullptr;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<HttpSession>> waiting;  // REST requests being decided
  std::unordered_map<std::uint64_t, std::weak_ptr<WsSession>> sockets;
  const std::function<void()>* step = nullptr;
  const std::atomic<int>* stop = nullptr;
  std::chrono::steady_clock::time_point next_tick;

  void respond(std::uint64_t token, HttpResponse response) override;
  void send(std::uint64_t conn, std::string text) override;
  void close(std::uint64_t conn) override;
  void accept();
  void arm_timer();
};

class BinanceVenueServer::Impl::WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Impl& impl, beast::ssl_stream<beast::tcp_stream>&& stream, std::uint64_t id)
      : impl_(impl), ws_(std::move(stream)), id_(id) {}

  void accept(http::request<http::string_body> request) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(impl_.options.max_body_bytes);
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->gone();
      self->open_ = true;
      if (self->closing_) {  // the venue gave up on it during the handshake
        self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code) {});
        return;
      }
      // What the venue queued before the handshake completed goes now.
      if (!self->queue_.empty()) self->write_next();
      self->read();
    });
  }

  void queue(std::string text) {
    if (closing_) return;
    if (queue_.size() >= impl_.options.max_queued_messages) {
      // A client that does not read: disconnected, as Binance disconnects slow consumers.
      close_now();
      return;
    }
    queue_.push_back(std::move(text));
    if (open_ && queue_.size() == 1) write_next();
  }

  void close_now() {
    if (closing_) return;
    closing_ = true;
    told_venue_ = true;  // the venue closed it, or gave up on it: it forgets it itself
    if (impl_.venue) impl_.venue->on_ws_close(id_);
    impl_.sockets.erase(id_);
    if (!open_) return;
    ws_.async_close(websocket::close_code::going_away, [self = shared_from_this()](beast::error_code) {});
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->gone();
      if (!self->closing_ && self->impl_.venue && self->ws_.got_text())
        self->impl_.venue->on_ws_text(self->id_, beast::buffers_to_string(self->buffer_.data()), wall_now());
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->gone();
                      self->queue_.pop_front();
                      if (!self->queue_.empty() && !self->closing_) self->write_next();
                    });
  }

  void gone() {
    if (!told_venue_) {
      told_venue_ = true;
      if (impl_.venue) impl_.venue->on_ws_close(id_);
      impl_.sockets.erase(id_);
    }
    closing_ = true;
  }

  Impl& impl_;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
  std::uint64_t id_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false, closing_ = false, told_venue_ = false;
};

class BinanceVenueServer::Impl::HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Impl& impl, tcp::socket&& socket) : impl_(impl), stream_(std::move(socket), impl.ctx) {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) ip_ = endpoint.address().to_string();
  }

  void start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.options.read_timeout_ns));
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

  void write(HttpResponse response) {
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(version_);
    out->result(static_cast<http::status>(response.status));
    out->set(http::field::server, "tranche");
    out->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out->set(name, value);
    out->keep_alive(keep_alive_);
    out->body() = std::move(response.body);
    out->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.options.read_timeout_ns));
    http::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
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
    parser_->body_limit(impl_.options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    // The whole request within the read timeout: a client that trickles it in loses the connection.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(impl_.options.read_timeout_ns));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted)
      return shutdown();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      HttpResponse r;
      r.status = 413;
      r.body = error_body(-1000, "An unknown error occurred while processing the request: the body is over " +
                                     std::to_string(impl_.options.max_body_bytes) + " bytes.");
      return write(std::move(r));
    }
    if (ec) {
      if (ec.category() != http::make_error_code(http::error::bad_target).category())
        return;  // the connection failed
      keep_alive_ = false;
      HttpResponse r;
      r.status = 400;
      r.body = error_body(-1000, "An unknown error occurred while processing the request: malformed HTTP.");
      return write(std::move(r));
    }
    http::request<http::string_body> request = parser_->release();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    const TimestampNs now = wall_now();
    if (websocket::is_upgrade(request)) {
      const std::uint64_t id = ++impl_.next_id;
      HttpResponse refusal;
      if (!impl_.venue->on_ws_open(id, std::string_view(request.target().data(), request.target().size()),
                                   ip_, now, refusal)) {
        keep_alive_ = false;
        return write(std::move(refusal));
      }
      auto ws = std::make_shared<WsSession>(impl_, std::move(stream_), id);
      impl_.sockets[id] = ws;
      ws->accept(std::move(request));
      return;
    }
    const std::uint64_t token = ++impl_.next_id;
    impl_.waiting[token] = shared_from_this();
    request_ = std::move(request);  // the views below point into it until the answer is written
    const std::string_view target(request_.target().data(), request_.target().size());
    const std::size_t q = target.find('?');
    HttpRequest r;
    r.method = std::string_view(request_.method_string().data(), request_.method_string().size());
    r.path = target.substr(0, q);
    r.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    r.body = request_.body();
    if (auto it = request_.find("X-MBX-APIKEY"); it != request_.end())
      r.api_key = std::string_view(it->value().data(), it->value().size());
    r.ip = ip_;
    impl_.venue->on_http(token, r, now);
  }

  void shutdown() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  Impl& impl_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  std::string ip_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
};

void BinanceVenueServer::Impl::respond(std::uint64_t token, HttpResponse response) {
  auto it = waiting.find(token);
  if (it == waiting.end()) return;
  std::shared_ptr<HttpSession> session = std::move(it->second);
  waiting.erase(it);
  session->write(std::move(response));
}

void BinanceVenueServer::Impl::send(std::uint64_t conn, std::string text) {
  auto it = sockets.find(conn);
  if (it == sockets.end()) return;
  if (auto ws = it->second.lock()) ws->queue(std::move(text));
}

void BinanceVenueServer::Impl::close(std::uint64_t conn) {
  auto it = sockets.find(conn);
  if (it == sockets.end()) return;
  if (auto ws = it->second.lock()) ws->close_now();
  sockets.erase(conn);
}

void BinanceVenueServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // answers leave at once, not after a delayed ack
      std::make_shared<HttpSession>(*this, std::move(socket))->start();
    }
    if (acceptor.is_open()) accept();
  });
}

void BinanceVenueServer::Impl::arm_timer() {
  timer.expires_after(std::chrono::milliseconds(1));
  timer.async_wait([this](beast::error_code ec) {
    if (ec) return;
    if (stop->load() != 0) {
      beast::error_code ignored;
      acceptor.close(ignored);
      ioc.stop();
      return;
    }
    (*step)();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      next_tick = now + std::chrono::milliseconds(100);
      venue->on_tick(wall_now());
    }
    arm_timer();
  });
}

BinanceVenueServer::BinanceVenueServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BinanceVenueServer::~BinanceVenueServer() = default;

Result<std::unique_ptr<BinanceVenueServer>> BinanceVenueServer::start(const VenueServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  beast::error_code ec;
  impl->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                        ec);
  impl->ctx.use_certificate_chain_file(options.cert_file, ec);
  if (ec) return make_error("--cert " + options.cert_file + ": " + ec.message());
  impl->ctx.use_private_key_file(options.key_file, ssl::context::pem, ec);
  if (ec) return make_error("--key " + options.key_file + ": " + ec.message());
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) return make_error("'" + options.host + "' is not an IP address: " + ec.message());
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                      ec.message());
  return std::unique_ptr<BinanceVenueServer>(new BinanceVenueServer(std::move(impl)));
}

VenueOutput& BinanceVenueServer::output() {
  return *impl_;
}

int BinanceVenueServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void BinanceVenueServer::run(BinanceVenue& venue, const std::function<void()>& step,
                             const std::atomic<int>& stop) {
  impl_->venue = &venue;
  impl_->step = &step;
  impl_->stop = &stop;
  impl_->next_tick = std::chrono::steady_clock::now();
  impl_->accept();
  impl_->arm_timer();
  impl_->ioc.run();
  impl_->venue = nullptr;
}

}  // namespace tranche::gateway::binance
