#include "gateway/net.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <future>
#include <iostream>

namespace tranche::gateway::net {

namespace {

using error_code = boost::system::error_code;

// The peer's name must match its certificate: a DNS name (also sent as SNI) or an IP address.
Status expect_peer(SSL* ssl, const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return make_error("cannot expect IP address " + host + " in the certificate");
    return {};
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) != 1 ||
      SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return make_error("cannot expect host name " + host + " in the certificate");
  return {};
}

std::string describe(const error_code& ec, const char* during) {
  std::string text = std::string(during) + ": " + ec.message();
  // OpenSSL's reason for a refused certificate reads better than "certificate verify failed" alone.
  if (ec.category() == asio::error::get_ssl_category()) {
    const long reason = static_cast<long>(ERR_GET_REASON(static_cast<unsigned long>(ec.value())));
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) text += " (the venue's certificate is not trusted)";
  }
  return text;
}

std::string host_header(const Url& url) {
  return (url.port == "443") ? url.host : url.host + ":" + url.port;
}

}  // namespace

// --- IoThread ---

IoThread::IoThread()
    : guard_(asio::make_work_guard(context_)), thread_([this] {
        for (;;) {
          try {
            context_.run();
            return;
          } catch (const std::exception& e) {
            // A handler threw: said, and the loop goes on (no gateway may take the others down).
            std::cerr << "tranche: network thread: " << e.what() << "\n";
          }
        }
      }) {}

IoThread::~IoThread() {
  stop();
}

void IoThread::post(std::function<void()> work) {
  asio::post(context_, std::move(work));
}

void IoThread::stop() {
  // What was posted before runs first (post is first in, first out): a gateway's stop posts the close that
  // fails its queued requests, and those requests' callbacks hold their gateway. Stopping before they ran
  // would leave that cycle alive past the thread. Bounded: a thread stuck in a handler does not hold us.
  if (thread_.joinable() && !on_this_thread() && !context_.stopped()) {
    auto ran = std::make_shared<std::promise<void>>();
    std::future<void> barrier = ran->get_future();
    asio::post(context_, [ran] { ran->set_value(); });
    (void)barrier.wait_for(std::chrono::seconds(2));
  }
  guard_.reset();
  context_.stop();
  if (thread_.joinable() && !on_this_thread()) thread_.join();
}

// --- URLs and TLS ---

Result<Url> parse_url(std::string_view text) {
  Url url;
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return make_error("'" + std::string(text) + "' is not a URL");
  url.scheme = std::string(text.substr(0, colon));
  if (url.scheme != "https" && url.scheme != "wss")
    return make_error("'" + std::string(text) + "': only https:// and wss:// are spoken (TLS always)");
  std::string_view rest = text.substr(colon + 3);
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!url.target.empty() && url.target.front() == '?') url.target = "/" + url.target;
  url.port = "443";
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("'" + std::string(text) + "': unclosed [");
    url.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return make_error("'" + std::string(text) + "': bad port");
      url.port = std::string(authority.substr(1));
    }
  } else {
    const std::size_t port = authority.rfind(':');
    url.host = std::string(authority.substr(0, port));
    if (port != std::string_view::npos) url.port = std::string(authority.substr(port + 1));
  }
  int port_number = 0;
  const auto [end, ec] = std::from_chars(url.port.data(), url.port.data() + url.port.size(), port_number);
  if (url.host.empty() || ec != std::errc{} || end != url.port.data() + url.port.size() || port_number <= 0 ||
      port_number > 65535)
    return make_error("'" + std::string(text) + "': no host, or a port that is not 1 to 65535");
  return url;
}

Result<std::shared_ptr<asio::ssl::context>> make_client_tls(const std::string& ca_file) {
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  tls->set_verify_mode(asio::ssl::verify_peer);
  error_code ec;
  if (ca_file.empty())
    tls->set_default_verify_paths(ec);
  else
    tls->load_verify_file(ca_file, ec);
  if (ec)
    return make_error(
        (ca_file.empty() ? std::string("the system's certificate store") : "CA file " + ca_file) + ": " +
        ec.message());
  return tls;
}

std::string_view HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return {};
}

// --- HttpsClient ---

HttpsClient::HttpsClient(IoThread& io, std::shared_ptr<asio::ssl::context> tls, Url base)
    : io_(io), tls_(std::move(tls)), base_(std::move(base)), resolver_(io.context()) {
  if (base_.target.size() > 1 && base_.target.back() == '/') base_.target.pop_back();
  if (base_.target == "/") base_.target.clear();
}

void HttpsClient::request(HttpRequest request, Callback done) {
  if (closed_) {
    HttpResponse r;
    r.error = "closed";
    done(std::move(r));
    return;
  }
  queue_.push_back(Pending{std::move(request), std::move(done)});
  next();
}

void HttpsClient::close() {
  closed_ = true;
  drop_connection();
  while (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    HttpResponse r;
    r.error = "closed";
    p.done(std::move(r));
  }
  busy_ = false;
}

namespace {
// Whether the venue has closed a kept-alive connection while it sat idle (its idle timeout): the socket then
// reads end-of-stream, or holds the TLS close_notify, and an HTTP/1.1 server sends nothing unasked. One
// non-blocking peek, before a request is written, so that a request is never written into a dead connection,
// whose failure would leave an order's fate unknown. (A close racing the write itself is still possible;
// the gateways treat that answer as unknown and query.)
bool closed_by_peer(beast::ssl_stream<beast::tcp_stream>& stream) {
  char byte = 0;
  const ssize_t n =
      ::recv(beast::get_lowest_layer(stream).socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return true;  // end of stream, or bytes nobody asked for
  return errno != EAGAIN && errno != EWOULDBLOCK;
}
}  // namespace

void HttpsClient::next() {
  if (busy_ || queue_.empty() || closed_) return;
  busy_ = true;
  if (connected_ && stream_ && closed_by_peer(*stream_)) drop_connection();
  if (connected_)
    write();
  else
    connect();
}

void HttpsClient::fail(std::uint64_t generation, const error_code& ec, const char* during) {
  if (generation != generation_ || !busy_) return;
  HttpResponse r;
  r.timed_out = ec == beast::error::timeout;
  r.error = r.timed_out ? std::string(during) + ": no answer in time" : describe(ec, during);
  finish(std::move(r), false);
}

void HttpsClient::connect() {
  const std::uint64_t gen = ++generation_;
  stream_ = std::make_shared<beast::ssl_stream<beast::tcp_stream>>(io_.context(), *tls_);
  if (auto s = expect_peer(stream_->native_handle(), base_.host); !s) {
    HttpResponse r;
    r.error = s.message();
    return finish(std::move(r), false);
  }
  auto stream = stream_;
  beast::get_lowest_layer(*stream).expires_after(queue_.front().request.timeout);
  resolver_.async_resolve(
      base_.host, base_.port,
      [self = shared_from_this(), stream, gen](const error_code& ec,
                                               asio::ip::tcp::resolver::results_type found) {
        if (ec) return self->fail(gen, ec, "resolving the venue's host");
        beast::get_lowest_layer(*stream).async_connect(
            found, [self, stream, gen](const error_code& ec2, const asio::ip::tcp::endpoint&) {
              if (ec2) return self->fail(gen, ec2, "connecting to the venue");
              stream->async_handshake(asio::ssl::stream_base::client,
                                      [self, stream, gen](const error_code& ec3) {
                                        if (ec3) return self->fail(gen, ec3, "TLS handshake with the venue");
                                        if (gen != self->generation_) return;
                                        self->connected_ = true;
                                        self->write();
                                      });
            });
      });
}

void HttpsClient::write() {
  const std::uint64_t gen = generation_;
  const HttpRequest& request = queue_.front().request;
  out_ = {};
  out_.version(11);
  out_.method(request.method);
  out_.target(base_.target + request.target);
  out_.set(http::field::host, host_header(base_));
  out_.set(http::field::user_agent, "tranche");
  out_.keep_alive(true);
  for (const auto& [name, value] : request.headers) out_.set(name, value);
  if (!request.body.empty()) {
    if (out_.find(http::field::content_type) == out_.end())
      out_.set(http::field::content_type, "application/x-www-form-urlencoded");
    out_.body() = request.body;
  }
  out_.prepare_payload();
  in_ = std::make_shared<http::response_parser<http::string_body>>();
  in_->body_limit(64 * 1024 * 1024);
  auto stream = stream_;
  auto parser = in_;
  beast::get_lowest_layer(*stream).expires_after(request.timeout);
  http::async_write(
      *stream, out_, [self = shared_from_this(), stream, parser, gen](const error_code& ec, std::size_t) {
        if (ec) return self->fail(gen, ec, "sending the request");
        http::async_read(*stream, self->buffer_, *parser,
                         [self, stream, parser, gen](const error_code& ec2, std::size_t) {
                           if (ec2) return self->fail(gen, ec2, "reading the answer");
                           if (gen != self->generation_) return;
                           HttpResponse r;
                           const auto& message = parser->get();
                           r.status = static_cast<int>(message.result_int());
                           for (const auto& field : message) {
                             std::string name(field.name_string());
                             for (char& c : name)
                               c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                             r.headers.emplace_back(std::move(name), std::string(field.value()));
                           }
                           r.body = message.body();
                           const bool keep = message.keep_alive();
                           self->finish(std::move(r), keep);
                         });
      });
}

void HttpsClient::finish(HttpResponse response, bool keep_connection) {
  if (!keep_connection) drop_connection();
  busy_ = false;
  if (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    p.done(std::move(response));
  }
  next();
}

void HttpsClient::drop_connection() {
  ++generation_;
  connected_ = false;
  buffer_.clear();
  if (stream_) {
    error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
    stream_.reset();  // the handlers in flight hold it until they have run
  }
}

// --- Backoff ---

std::chrono::milliseconds Backoff::next() {
  const auto wait = next_;
  next_ = std::min(max_, next_ * 2);
  std::uniform_int_distribution<std::int64_t> draw(wait.count() / 2, wait.count());
  return std::chrono::milliseconds(draw(rng_));
}

// --- WsClient ---

WsClient::WsClient(IoThread& io, std::shared_ptr<asio::ssl::context> tls, Url url, Options options,
                   Handlers handlers)
    : io_(io),
      tls_(std::move(tls)),
      url_(std::move(url)),
      options_(options),
      handlers_(std::move(handlers)),
      backoff_(options.reconnect_min, options.reconnect_max, options.seed),
      resolver_(io.context()),
      retry_(io.context()) {}

void WsClient::start() {
  io_.post([self = shared_from_this()] {
    if (!self->stopped_ && !self->ws_) self->connect();
  });
}

void WsClient::connect() {
  const std::uint64_t gen = ++generation_;
  ws_ = std::make_shared<Stream>(io_.context(), *tls_);
  if (auto s = expect_peer(ws_->next_layer().native_handle(), url_.host); !s) return lost(gen, s.message());
  auto ws = ws_;
  beast::get_lowest_layer(*ws).expires_after(options_.handshake_timeout);
  resolver_.async_resolve(
      url_.host, url_.port,
      [self = shared_from_this(), ws, gen](const error_code& ec,
                                           asio::ip::tcp::resolver::results_type found) {
        if (ec) return self->lost(gen, "resolving " + self->url_.host + ": " + ec.message());
        beast::get_lowest_layer(*ws).async_connect(
            found, [self, ws, gen](const error_code& ec2, const asio::ip::tcp::endpoint&) {
              if (ec2) return self->lost(gen, describe(ec2, "connecting"));
              ws->next_layer().async_handshake(
                  asio::ssl::stream_base::client, [self, ws, gen](const error_code& ec3) {
                    if (ec3) return self->lost(gen, describe(ec3, "TLS handshake"));
                    beast::get_lowest_layer(*ws).expires_never();
                    websocket::stream_base::timeout timeouts;
                    timeouts.handshake_timeout = self->options_.handshake_timeout;
                    timeouts.idle_timeout = self->options_.idle_timeout;
                    timeouts.keep_alive_pings =
                        true;  // a ping at half the idle time; no answer by the end drops it
                    ws->set_option(timeouts);
                    ws->read_message_max(self->options_.max_message_bytes);
                    ws->set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
                      request.set(http::field::user_agent, "tranche");
                    }));
                    ws->async_handshake(host_header(self->url_), self->url_.target,
                                        [self, ws, gen](const error_code& ec4) {
                                          if (ec4)
                                            return self->lost(gen, describe(ec4, "WebSocket handshake"));
                                          if (gen != self->generation_) return;
                                          self->open_ = true;
                                          self->backoff_.reset();
                                          if (self->handlers_.on_open) self->handlers_.on_open();
                                          self->read();
                                          self->write_next();
                                        });
                  });
            });
      });
}

void WsClient::read() {
  const std::uint64_t gen = generation_;
  auto ws = ws_;
  ws->async_read(buffer_, [self = shared_from_this(), ws, gen](const error_code& ec, std::size_t) {
    if (gen != self->generation_) return;
    if (ec)
      return self->lost(
          gen, ec == websocket::error::closed ? "the venue closed the WebSocket" : describe(ec, "reading"));
    const auto data = self->buffer_.cdata();
    if (self->handlers_.on_message)
      self->handlers_.on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
    self->buffer_.consume(self->buffer_.size());
    if (gen == self->generation_) self->read();
  });
}

bool WsClient::send(std::string text) {
  if (!open_.load()) return false;
  io_.post([self = shared_from_this(), text = std::move(text)]() mutable {
    if (!self->open_.load()) return;
    self->outbox_.push_back(std::move(text));
    if (!self->writing_) self->write_next();
  });
  return true;
}

void WsClient::write_next() {
  if (outbox_.empty() || !open_.load()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const std::uint64_t gen = generation_;
  auto ws = ws_;
  ws->text(true);
  ws->async_write(asio::buffer(outbox_.front()),
                  [self = shared_from_this(), ws, gen](const error_code& ec, std::size_t) {
                    if (gen != self->generation_) return;
                    self->outbox_.pop_front();
                    if (ec) return self->lost(gen, describe(ec, "writing"));
                    self->write_next();
                  });
}

void WsClient::drop(const std::string& why) {
  io_.post([self = shared_from_this(), why] { self->lost(self->generation_, why); });
}

void WsClient::lost(std::uint64_t generation, const std::string& why) {
  if (generation != generation_) return;
  ++generation_;
  open_ = false;
  writing_ = false;
  outbox_.clear();
  buffer_.clear();
  if (ws_) {
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
    ws_.reset();  // the handlers in flight hold it until they have run
  }
  if (handlers_.on_close) handlers_.on_close(why);
  if (stopped_) return;
  retry_.expires_after(backoff_.next());
  retry_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec && !self->stopped_ && !self->ws_) self->connect();
  });
}

void WsClient::stop() {
  io_.post([self = shared_from_this()] {
    self->stopped_ = true;
    self->retry_.cancel();
    if (self->ws_) self->lost(self->generation_, "stopped");
  });
}

}  // namespace tranche::gateway::net
