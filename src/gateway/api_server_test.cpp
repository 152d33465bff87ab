#include "gateway/api_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "gateway/net.hpp"
#include "gateway/test_tls.hpp"

namespace tranche::gateway {
namespace {

namespace beast = boost::beast;

TEST(ApiTokens, AreKeptAsTheirSha256) {
  // FIPS 180-2's test vector.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("demo-trader"), "048d72d353b33a1a1bc51db8d0d8dca5a56ebe43c362a56284af958d628fc487");
}

TEST(ApiTokens, ANewTokenIs256RandomBitsInUrlSafeCharacters) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto token = new_api_token();
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token->size(), 43u);  // 256 bits, 6 to a character
    EXPECT_EQ(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ApiOrigins, OnlyTheServersOwnAndTheConfiguredOnesPass) {
  const std::vector<std::string> self = {"http://127.0.0.1:9880", "http://localhost:9880"};
  const std::vector<std::string> allowed = {"https://desk.example"};
  EXPECT_TRUE(origin_allowed("", self, allowed));  // a program, not a browser
  EXPECT_TRUE(origin_allowed("http://localhost:9880", self, allowed));
  EXPECT_TRUE(origin_allowed("https://desk.example", self, allowed));
  EXPECT_FALSE(origin_allowed("http://localhost:9881", self, allowed));
  EXPECT_FALSE(origin_allowed("https://desk.example.evil.com", self, allowed));
  EXPECT_FALSE(origin_allowed("null", self, allowed));
}

TEST(ApiRoles, ParseTheThreeAndNothingElse) {
  ApiRole role = ApiRole::Viewer;
  EXPECT_TRUE(parse_api_role("admin", role));
  EXPECT_EQ(role, ApiRole::Admin);
  EXPECT_FALSE(parse_api_role("root", role));
  EXPECT_FALSE(parse_api_role("Admin", role));
}

// The server over HTTPS, as our own verifying client sees it: a call reaches the handler with the token's
// name and role, the answer comes back from another thread; no token is a 401 the handler never sees.
TEST(ApiServerOverTls, HandsAnAuthenticatedCallOverAndWritesTheAnswerFromAnotherThread) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.error.empty()) << certs.error;
  ApiConfig config;
  config.enabled = true;
  config.port = 0;
  config.tls_cert = certs.cert_file;
  config.tls_key = certs.key_file;
  config.tokens.push_back({"alice", "trader", sha256_hex("alice-secret")});
  std::mutex mutex;
  std::vector<ApiCall> calls;
  std::vector<std::string> log;
  ApiServer* server_ptr = nullptr;
  ApiServer::Handlers handlers;
  handlers.on_call = [&](ApiCall call) {
    std::lock_guard lock(mutex);
    calls.push_back(call);
    // Answered from a thread of its own, as the kernel's thread does.
    std::thread([server_ptr, id = call.id, body = call.body] {
      server_ptr->respond(id, {201, "application/json", "{\"echo\":" + body + "}"});
    }).detach();
  };
  handlers.log = [&](const std::string& line) {
    std::lock_guard lock(mutex);
    log.push_back(line);
  };
  auto started = ApiServer::start(config, handlers);
  ASSERT_TRUE(started) << started.error().message;
  server_ptr = started->get();
  EXPECT_EQ(server_ptr->origin(), "https://127.0.0.1:" + std::to_string(server_ptr->port()));

  net::IoThread io;
  auto tls = net::make_client_tls(certs.ca_file);
  ASSERT_TRUE(tls);
  auto base = net::parse_url("https://127.0.0.1:" + std::to_string(server_ptr->port()));
  ASSERT_TRUE(base);
  auto client = std::make_shared<net::HttpsClient>(io, *tls, *base);
  auto fetch = [&](net::HttpRequest request) {
    std::promise<net::HttpResponse> answer;
    io.post([&] {
      client->request(std::move(request), [&](net::HttpResponse r) { answer.set_value(std::move(r)); });
    });
    return answer.get_future().get();
  };
  net::HttpRequest post;
  post.method = net::http::verb::post;
  post.target = "/api/v1/parents?x=1";
  post.body = "{\"qty\":\"1\"}";
  post.headers = {{"Authorization", "Bearer alice-secret"}, {"Content-Type", "application/json"}};
  const net::HttpResponse ok = fetch(post);
  EXPECT_EQ(ok.status, 201) << ok.error;
  EXPECT_EQ(ok.body, "{\"echo\":{\"qty\":\"1\"}}");
  net::HttpRequest anonymous;
  anonymous.target = "/api/v1/parents";
  const net::HttpResponse refused = fetch(anonymous);
  EXPECT_EQ(refused.status, 401);
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].method, "POST");
    EXPECT_EQ(calls[0].path, "/api/v1/parents");
    EXPECT_EQ(calls[0].query, "x=1");
    EXPECT_EQ(calls[0].token_name, "alice");
    EXPECT_EQ(calls[0].role, ApiRole::Trader);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("401 GET /api/v1/parents"), std::string::npos) << log[0];
  }
  const ApiServerStats stats = server_ptr->stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.unauthorized, 1u);
  client->close();
  io.stop();
  server_ptr->stop();
}

// A plain-HTTP server with one viewer token, whose API thread a test can hold in a call (as a stalled thread
// would be) and let go.
struct HeldServer {
  explicit HeldServer(ApiConfig config) {
    config.enabled = true;
    config.port = 0;
    config.tokens.push_back({"val", "viewer", sha256_hex("val-secret")});
    ApiServer::Handlers handlers;
    handlers.on_call = [this](ApiCall call) {
      held.set_value();
      released.wait();  // the API's thread, held here
      server->respond(call.id, {200, "application/json", "{}"});
    };
    auto started = ApiServer::start(config, handlers);
    if (!started) {
      error = started.error().message;
      return;
    }
    server = std::move(started).value();
    port = static_cast<unsigned short>(server->port());
  }
  ~HeldServer() {
    if (caller.joinable()) {
      release.set_value();
      caller.join();
    }
    if (server) server->stop();
  }
  // Returns once the API's thread is held in a call.
  void hold() {
    caller = std::thread([port = port] {
      boost::asio::io_context io;
      boost::beast::tcp_stream http(io);
      http.connect({boost::asio::ip::make_address("127.0.0.1"), port});
      const std::string request =
          "GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer val-secret\r\n\r\n";
      boost::asio::write(http, boost::asio::buffer(request));
      boost::beast::flat_buffer b;
      boost::beast::http::response<boost::beast::http::string_body> answer;
      boost::beast::error_code ec;
      boost::beast::http::read(http, b, answer, ec);
    });
    held.get_future().wait();
  }
  void let_go() {
    release.set_value();
    caller.join();
  }
  // Waits (2 s at most) until the server's thread has taken `n` events from the kernel's queue.
  bool published(std::uint64_t n) const {
    for (int i = 0; i < 200 && server->stats().events_published < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return server->stats().events_published == n;
  }

  std::unique_ptr<ApiServer> server;
  std::string error;
  unsigned short port = 0;
  std::promise<void> held, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread caller;
};

// A stream client signed in as the viewer; each read waits 10 s at most, so a message that never comes fails
// the test instead of hanging it.
struct StreamReader {
  StreamReader(unsigned short port, const std::string& target) {
    beast::get_lowest_layer(ws).connect({boost::asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1", target);
    ws.write(boost::asio::buffer(std::string("{\"token\":\"val-secret\"}")));
  }
  ~StreamReader() { beast::get_lowest_layer(ws).close(); }
  // The next message, or nullopt when none came within 10 s or the stream closed.
  std::optional<std::string> next() {
    bool read = false;
    ws.async_read(buffer, [&](beast::error_code ec, std::size_t) { read = !ec; });
    ioc.restart();
    ioc.run_for(std::chrono::seconds(10));
    if (!read) return std::nullopt;
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.clear();
    return text;
  }
  // The seqs in one message (one event, or an array of what waited) before `end`, in order.
  static std::vector<std::uint64_t> seqs(const std::string& text, std::size_t end = std::string::npos) {
    std::vector<std::uint64_t> out;
    for (std::size_t at = text.find("\"seq\":"); at != std::string::npos && at < end;
         at = text.find("\"seq\":", at + 1))
      out.push_back(std::stoull(text.substr(at + 6)));
    return out;
  }

  boost::asio::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

// The kernel's thread hands events over through a bounded queue and never waits: when the API's thread is
// stuck long enough for it to fill, what does not fit is lost, counted, and every client is told a gap
// (the blotter then reads the state again), never dropped in silence.
TEST(ApiServerStream, EventsThatFindTheQueueFullAreCountedAndEveryClientIsToldAGap) {
  ApiConfig config;
  config.stream_queue = 200000;  // the client is not dropped as slow for the burst it gets
  HeldServer s(config);
  ASSERT_TRUE(s.server) << s.error;
  StreamReader reader(s.port, "/api/v1/stream");
  const auto hello = reader.next();
  ASSERT_TRUE(hello);
  ASSERT_NE(hello->find("\"hello\""), std::string::npos) << *hello;

  // Hold the API's thread in a call, then publish more than the queue holds.
  s.hold();
  constexpr std::uint64_t kPublished = 65536 + 7;
  for (std::uint64_t seq = 1; seq <= kPublished; ++seq)
    s.server->publish(seq, "{\"seq\":" + std::to_string(seq) + "}");
  EXPECT_EQ(s.server->stats().events_lost, 7u);
  s.let_go();

  // Every event that fit, in order, then the gap.
  std::uint64_t next_seq = 1;
  for (bool gap = false; !gap;) {
    const auto text = reader.next();
    ASSERT_TRUE(text) << "nothing more came after seq " << next_seq - 1;
    // The gap may close the last array.
    const std::size_t gap_at = text->find("{\"type\":\"gap\"");
    for (std::uint64_t seq : StreamReader::seqs(*text, gap_at))
      ASSERT_EQ(seq, next_seq++) << "an event out of order or missing";
    if (gap_at != std::string::npos) {
      const std::string told = "{\"type\":\"gap\",\"lost\":7}";
      EXPECT_EQ(text->substr(gap_at, told.size()), told) << text->substr(gap_at);
      EXPECT_EQ(text->find("\"seq\":", gap_at), std::string::npos) << "an event after the gap";
      gap = true;
    }
  }
  EXPECT_EQ(next_seq - 1, 65536u);
  EXPECT_EQ(s.server->stats().events_published, 65536u);
}

// Regression: a client that reconnected asking for more kept events than stream_queue was dropped as "too
// slow" by the first live event, before it could read its hello (the catch-up the server queued itself
// counted as events the client had not read).
TEST(ApiServerStream, AReconnectingClientsCatchUpDoesNotCountAgainstItsSlowLimit) {
  ApiConfig config;
  config.stream_queue = 5;
  HeldServer s(config);
  ASSERT_TRUE(s.server) << s.error;
  // 8 MB of catch-up: more than the sockets' buffers take before the client reads, so it is still waiting
  // to be written when the live events come.
  constexpr std::uint64_t kKept = 1000;
  const std::string pad(8192, 'x');
  for (std::uint64_t seq = 1; seq <= kKept; ++seq)
    s.server->publish(seq, "{\"seq\":" + std::to_string(seq) + ",\"pad\":\"" + pad + "\"}");
  ASSERT_TRUE(s.published(kKept));

  StreamReader reader(s.port, "/api/v1/stream?from=1");
  for (int i = 0; i < 200 && s.server->stats().stream_clients < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(s.server->stats().stream_clients, 1u);
  // Live events while the whole catch-up still waits to be written.
  s.hold();
  for (std::uint64_t seq = kKept + 1; seq <= kKept + 3; ++seq)
    s.server->publish(seq, "{\"seq\":" + std::to_string(seq) + "}");
  s.let_go();
  ASSERT_TRUE(s.published(kKept + 3));

  std::uint64_t next_seq = 1;
  bool hello = false;
  while (next_seq <= kKept + 3) {
    const auto text = reader.next();
    ASSERT_TRUE(text) << "the stream ended or stalled after seq " << next_seq - 1;
    hello = hello || text->find("\"type\":\"hello\"") != std::string::npos;
    for (std::uint64_t seq : StreamReader::seqs(*text)) ASSERT_EQ(seq, next_seq++);
  }
  EXPECT_TRUE(hello);
  EXPECT_EQ(s.server->stats().stream_dropped_slow, 0u);
}

TEST(ApiServer, RefusesAnAddressThatIsNotOneAndAMissingCertificate) {
  ApiConfig config;
  config.host = "localhost-ish";
  EXPECT_FALSE(ApiServer::start(config, {}));
  ApiConfig tls;
  tls.port = 0;
  tls.tls_cert = "/nonexistent/cert.pem";
  tls.tls_key = "/nonexistent/key.pem";
  auto started = ApiServer::start(tls, {});
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("tls_cert"), std::string::npos);
}

}  // namespace
}  // namespace tranche::gateway
