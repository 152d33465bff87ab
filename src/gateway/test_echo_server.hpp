#pragma once
// Test and benchmark support: a blocking HTTPS and WSS server on 127.0.0.1 with a certificate the caller
// made (test_tls.hpp). "/slow" answers after 1.5 s, "/close" answers with Connection: close, anything else
// echoes its target (and body); a WebSocket echoes each message, and on "drop" cuts the connection as a
// network would. One thread per connection: the bare floor a client's round trip is measured against.
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/net.hpp"

namespace tranche::gateway::testing {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
namespace websocket = net::websocket;

using tcp = asio::ip::tcp;

class EchoServer {
 public:
  // A scripted answer instead of the echo (tests that play a venue): nullopt from the handler echoes.
  struct Answer {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int delay_ms = 0;  // answered this late (a venue that does not answer in time)
  };
  using HttpHandler = std::function<std::optional<Answer>(
      const std::string& method, const std::string& target, const std::string& body)>;
  // The WebSocket's replies to one message (none: silence).
  using WsHandler = std::function<std::vector<std::string>(const std::string& text)>;
  void script(HttpHandler http, WsHandler ws) {
    std::lock_guard lock(mutex_);
    http_ = std::move(http);
    ws_ = std::move(ws);
  }

  EchoServer(const std::string& cert, const std::string& key)
      : acceptor_(context_, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain_file(cert);
    tls_.use_private_key_file(key, asio::ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stopping_ = true;
    {
      tcp::socket wake(context_);
      boost::system::error_code ignored;
      wake.connect({asio::ip::make_address("127.0.0.1"), port_}, ignored);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_) t.join();
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      tcp::socket socket(context_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      ++accepted_;
      {
        std::lock_guard lock(mutex_);
        fds_.push_back(socket.native_handle());
      }
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
  void serve(tcp::socket socket) {
    beast::ssl_stream<tcp::socket> stream(std::move(socket), tls_);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      http::read(stream, buffer, request, ec);
      if (ec) return;
      if (websocket::is_upgrade(request)) {
        websocket::stream<beast::ssl_stream<tcp::socket>&> ws(stream);
        ws.accept(request, ec);
        for (beast::flat_buffer message; !ec; message.clear()) {
          ws.read(message, ec);
          if (ec) return;
          const std::string text = beast::buffers_to_string(message.data());
          if (text == "drop") {
            ::shutdown(stream.next_layer().native_handle(), SHUT_RDWR);
            return;
          }
          ws.text(true);
          WsHandler handler;
          {
            std::lock_guard lock(mutex_);
            handler = ws_;
          }
          if (handler) {
            for (const auto& reply : handler(text)) ws.write(asio::buffer(reply), ec);
            continue;
          }
          ws.write(asio::buffer("echo:" + text), ec);
        }
        return;
      }
      const std::string target(request.target());
      HttpHandler handler;
      {
        std::lock_guard lock(mutex_);
        handler = http_;
      }
      const std::optional<Answer> scripted =
          handler ? handler(std::string(request.method_string()), target, request.body()) : std::nullopt;
      if (target == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      http::response<http::string_body> response{http::status::ok, 11};
      response.set("X-MBX-USED-WEIGHT-1M", "7");
      response.body() = "echo:" + target + (request.body().empty() ? "" : "|" + request.body());
      if (scripted) {
        if (scripted->delay_ms > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(scripted->delay_ms));
        response.result(static_cast<unsigned>(scripted->status));
        response.body() = scripted->body;
        for (const auto& [name, value] : scripted->headers) response.set(name, value);
      }
      response.keep_alive(target != "/close");
      response.prepare_payload();
      http::write(stream, response, ec);
      if (ec || target == "/close") return;
      // Keep-alive said, then the connection closed a moment later without a word: a venue's idle timeout.
      if (target == "/idle-close") {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return;
      }
    }
  }

  asio::io_context context_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::vector<std::thread> connections_;
  std::mutex mutex_;
  std::vector<int> fds_;
  HttpHandler http_;
  WsHandler ws_;
};

}  // namespace tranche::gateway::testing
