#include "gateway/net.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <future>
#include <mutex>

#include "gateway/test_tls.hpp"

namespace tranche::gateway::net {
namespace {

using tcp = asio::ip::tcp;

// A blocking HTTPS and WSS server on 127.0.0.1 for the tests: "/slow" answers after 1.5 s, "/close" answers
// with Connection: close, anything else echoes its target; a WebSocket echoes each message, and on "drop"
// cuts the connection as a network would.
class TestServer {
 public:
  TestServer(const std::string& cert, const std::string& key)
      : acceptor_(context_, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain_file(cert);
    tls_.use_private_key_file(key, asio::ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~TestServer() {
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
          ws.write(asio::buffer("echo:" + text), ec);
        }
        return;
      }
      const std::string target(request.target());
      if (target == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      http::response<http::string_body> response{http::status::ok, 11};
      response.set("X-MBX-USED-WEIGHT-1M", "7");
      response.body() = "echo:" + target + (request.body().empty() ? "" : "|" + request.body());
      response.keep_alive(target != "/close");
      response.prepare_payload();
      http::write(stream, response, ec);
      if (ec || target == "/close") return;
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
};

class Net : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.error.empty()) GTEST_FAIL() << certs_.error;
    server_ = std::make_unique<TestServer>(certs_.cert_file, certs_.key_file);
  }
  std::string url(std::string_view scheme, std::string_view host = "127.0.0.1") const {
    return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(server_->port());
  }
  std::shared_ptr<HttpsClient> client(const std::string& ca_file, std::string_view host = "127.0.0.1") {
    auto tls = make_client_tls(ca_file);
    EXPECT_TRUE(tls) << (tls ? "" : tls.error().message);
    auto base = parse_url(url("https", host));
    EXPECT_TRUE(base);
    return std::make_shared<HttpsClient>(io_, std::move(tls).value(), *base);
  }
  // Runs the request on the I/O thread and waits for its answer.
  HttpResponse fetch(const std::shared_ptr<HttpsClient>& c, HttpRequest request) {
    std::promise<HttpResponse> answer;
    io_.post(
        [&] { c->request(std::move(request), [&](HttpResponse r) { answer.set_value(std::move(r)); }); });
    return answer.get_future().get();
  }

  testing::TestCertificates certs_;
  std::unique_ptr<TestServer> server_;
  IoThread io_;
};

TEST_F(Net, AnHttpsRequestIsAnsweredAndTheConnectionIsKeptForTheNext) {
  auto c = client(certs_.ca_file);
  HttpRequest get;
  get.target = "/api/v3/time";
  const HttpResponse first = fetch(c, get);
  EXPECT_EQ(first.status, 200) << first.error;
  EXPECT_EQ(first.body, "echo:/api/v3/time");
  EXPECT_EQ(first.header("x-mbx-used-weight-1m"), "7");
  HttpRequest post;
  post.method = http::verb::post;
  post.target = "/api/v3/order";
  post.body = "symbol=ETHUSDT";
  const HttpResponse second = fetch(c, post);
  EXPECT_EQ(second.body, "echo:/api/v3/order|symbol=ETHUSDT");
  EXPECT_EQ(server_->accepted(), 1);
}

TEST_F(Net, AConnectionTheVenueClosesIsMadeAgainForTheNextRequest) {
  auto c = client(certs_.ca_file);
  HttpRequest close;
  close.target = "/close";
  EXPECT_EQ(fetch(c, close).status, 200);
  HttpRequest get;
  get.target = "/again";
  EXPECT_EQ(fetch(c, get).body, "echo:/again");
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(Net, AVenueWhoseCertificateIsNotTrustedIsRefused) {
  auto c = client("");  // the system's store: our test CA is not in it
  HttpRequest get;
  get.target = "/x";
  const HttpResponse r = fetch(c, get);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
}

TEST_F(Net, ACertificateForAnotherNameIsRefused) {
  auto c = client(certs_.ca_file, "localhost");  // the certificate names IP 127.0.0.1 only
  HttpRequest get;
  get.target = "/x";
  const HttpResponse r = fetch(c, get);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(Net, ARequestUnansweredInTimeFailsAsTimedOutAndTheNextOneStillGoes) {
  auto c = client(certs_.ca_file);
  HttpRequest slow;
  slow.target = "/slow";
  slow.timeout = std::chrono::milliseconds(300);
  const HttpResponse r = fetch(c, slow);
  EXPECT_TRUE(r.timed_out) << r.error;
  EXPECT_EQ(r.status, 0);
  HttpRequest get;
  get.target = "/after";
  EXPECT_EQ(fetch(c, get).body, "echo:/after");
}

TEST_F(Net, AWebSocketEchoesAndComesBackAfterADrop) {
  auto tls = make_client_tls(certs_.ca_file);
  ASSERT_TRUE(tls);
  std::mutex mutex;
  std::condition_variable changed;
  int opens = 0;
  int closes = 0;
  std::vector<std::string> messages;
  WsClient::Options options;
  options.reconnect_min = std::chrono::milliseconds(20);
  options.reconnect_max = std::chrono::milliseconds(40);
  WsClient::Handlers handlers;
  handlers.on_open = [&] {
    std::lock_guard lock(mutex);
    ++opens;
    changed.notify_all();
  };
  handlers.on_close = [&](const std::string&) {
    std::lock_guard lock(mutex);
    ++closes;
    changed.notify_all();
  };
  handlers.on_message = [&](std::string_view text) {
    std::lock_guard lock(mutex);
    messages.emplace_back(text);
    changed.notify_all();
  };
  auto ws = std::make_shared<WsClient>(io_, std::move(tls).value(), *parse_url(url("wss") + "/ws-api/v3"),
                                       options, handlers);
  auto wait_for = [&](auto done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), done);
  };
  ws->start();
  ASSERT_TRUE(wait_for([&] { return opens == 1; }));
  EXPECT_TRUE(ws->send("hello"));
  ASSERT_TRUE(wait_for([&] { return messages.size() == 1; }));
  EXPECT_EQ(messages[0], "echo:hello");
  EXPECT_TRUE(ws->send("drop"));
  ASSERT_TRUE(wait_for([&] { return closes == 1 && opens == 2; }));
  EXPECT_TRUE(ws->send("again"));
  ASSERT_TRUE(wait_for([&] { return messages.size() == 2; }));
  EXPECT_EQ(messages[1], "echo:again");
  ws->stop();
  ASSERT_TRUE(wait_for([&] { return closes == 2; }));
  EXPECT_FALSE(ws->send("after stop"));
}

TEST(NetUrl, ReadsHostPortAndTargetAndRefusesPlainText) {
  const auto u = parse_url("wss://stream.binance.com:9443/stream?streams=a/b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "stream.binance.com");
  EXPECT_EQ(u->port, "9443");
  EXPECT_EQ(u->target, "/stream?streams=a/b");
  const auto d = parse_url("https://api.binance.com");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, "443");
  EXPECT_EQ(d->target, "/");
  EXPECT_FALSE(parse_url("http://api.binance.com"));
  EXPECT_FALSE(parse_url("https://:443"));
  EXPECT_FALSE(parse_url("https://host:99999"));
  EXPECT_FALSE(parse_url("api.binance.com"));
}

TEST(NetBackoff, DoublesToItsCeilingWithJitterAndStartsAgainAfterAReset) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(400), 7);
  const auto w1 = b.next();
  const auto w2 = b.next();
  const auto w3 = b.next();
  const auto w4 = b.next();
  EXPECT_GE(w1.count(), 50);
  EXPECT_LE(w1.count(), 100);
  EXPECT_GE(w2.count(), 100);
  EXPECT_LE(w2.count(), 200);
  EXPECT_GE(w3.count(), 200);
  EXPECT_LE(w3.count(), 400);
  EXPECT_GE(w4.count(), 200);
  EXPECT_LE(w4.count(), 400);
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

}  // namespace
}  // namespace tranche::gateway::net
