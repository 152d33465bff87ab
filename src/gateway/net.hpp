#pragma once
// HTTPS with keep-alive and secure WebSocket on Boost.Beast/Asio over OpenSSL, for the crypto venues'
// gateways. Gateway-internal: only gateway's .cpp files include it (Beast never reaches the layers above).
//
// Everything runs on one I/O thread (IoThread) shared by every gateway: callbacks are called there, and a
// gateway hands what it heard to the EMS thread through its own queue, as FixVenueSession does.
// Certificates are always verified: against the system's store, or a CA file the config names for a test
// venue; the peer's name (or IP address) must match the certificate. There is no switch to turn that off.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.hpp"

namespace tranche::gateway::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// The one thread every gateway's network work runs on.
class IoThread {
 public:
  IoThread();
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  asio::io_context& context() { return context_; }
  bool on_this_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  // Runs `work` on the I/O thread.
  void post(std::function<void()> work);
  // Stops after what was posted ran; idempotent.
  void stop();

 private:
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// "https://host:port/base" or "wss://host:port/path".
struct Url {
  std::string scheme;  // "https" or "wss"
  std::string host;
  std::string port;    // default 443
  std::string target;  // the path (and query), "/" when none
};
Result<Url> parse_url(std::string_view text);

// A client TLS context: TLS 1.2 or later, peers verified against `ca_file` (PEM) or, when empty, the system's
// store.
Result<std::shared_ptr<asio::ssl::context>> make_client_tls(const std::string& ca_file);

struct HttpRequest {
  http::verb method = http::verb::get;
  std::string target;  // path and query, as sent
  std::string body;    // form body for POST/PUT/DELETE with one
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
};

struct HttpResponse {
  int status = 0;  // 0: no answer (transport error or timeout; `error` says which)
  std::string error;
  bool timed_out = false;
  std::string body;
  // The headers Binance and the others report usage and back-off in (names lower-case).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view header(std::string_view lower_name) const;
};

// One keep-alive HTTPS connection to one host; requests queue and go one at a time (HTTP/1.1 without
// pipelining). A dropped connection is made again for the next request. Thread: the I/O thread only.
class HttpsClient : public std::enable_shared_from_this<HttpsClient> {
 public:
  using Callback = std::function<void(HttpResponse)>;
  HttpsClient(IoThread& io, std::shared_ptr<asio::ssl::context> tls, Url base);
  // Queues a request; `done` is called once, on the I/O thread, with the answer or the failure.
  void request(HttpRequest request, Callback done);
  // Fails what is queued (with "closed") and closes the connection.
  void close();
  const Url& base() const { return base_; }

 private:
  struct Pending {
    HttpRequest request;
    Callback done;
  };
  void next();
  void connect();
  void write();
  void finish(HttpResponse response, bool keep_connection);
  void drop_connection();
  void fail(std::uint64_t generation, const boost::system::error_code& ec, const char* during);

  IoThread& io_;
  std::shared_ptr<asio::ssl::context> tls_;
  Url base_;
  asio::ip::tcp::resolver resolver_;
  // Shared with the handlers in flight, so a dropped connection lives until its last handler has run.
  std::shared_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  bool connected_ = false;
  bool busy_ = false;
  bool closed_ = false;
  std::deque<Pending> queue_;
  http::request<http::string_body> out_;
  std::shared_ptr<http::response_parser<http::string_body>> in_;
  beast::flat_buffer buffer_;
  std::uint64_t generation_ = 0;  // a late callback of a connection already dropped is ignored
};

// Backoff after a drop: from `min`, doubling to `max`, each wait drawn uniformly in [wait/2, wait] (jitter,
// so that many clients dropped together do not come back together); seeded, so a test can rely on it.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed)
      : min_(min), max_(max), next_(min), rng_(seed) {}
  std::chrono::milliseconds next();
  void reset() { next_ = min_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
  std::mt19937_64 rng_;
};

// A secure WebSocket that keeps itself open: it connects, reads every text message to `on_message`, pings
// when idle (a peer silent for `idle_timeout` is dropped), and after any drop connects again after a
// backoff. Sends made while it is down are refused (false), never held and sent late.
class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  struct Handlers {
    std::function<void()> on_open;
    std::function<void(std::string_view)> on_message;
    std::function<void(const std::string& why)> on_close;  // each drop, before the wait to reconnect
  };
  struct Options {
    std::chrono::milliseconds reconnect_min{250};
    std::chrono::milliseconds reconnect_max{30'000};
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds handshake_timeout{10'000};
    std::uint64_t seed = 1;
    std::size_t max_message_bytes = 16 * 1024 * 1024;
  };
  WsClient(IoThread& io, std::shared_ptr<asio::ssl::context> tls, Url url, Options options,
           Handlers handlers);
  // Starts connecting; from the I/O thread or any other.
  void start();
  // Queues a text message; false when the socket is not open.
  bool send(std::string text);
  bool open() const { return open_.load(); }
  // Changes the target (a stream list) for the next connection.
  void set_target(std::string target) { url_.target = std::move(target); }
  // Drops the connection now, as the network would (it reconnects after the backoff).
  void drop(const std::string& why);
  // Closes for good.
  void stop();

 private:
  using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
  void connect();
  void read();
  void write_next();
  void lost(std::uint64_t generation, const std::string& why);

  IoThread& io_;
  std::shared_ptr<asio::ssl::context> tls_;
  Url url_;
  Options options_;
  Handlers handlers_;
  Backoff backoff_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer retry_;
  std::shared_ptr<Stream> ws_;  // shared with the handlers in flight, as HttpsClient's
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  std::atomic<bool> open_{false};
  bool stopped_ = false;
  std::uint64_t generation_ = 0;
};

}  // namespace tranche::gateway::net
