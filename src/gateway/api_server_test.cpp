#include "gateway/api_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/net.hpp"
#include "gateway/test_tls.hpp"

namespace tranche::gateway {
namespace {

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

// The kernel's thread hands events over through a bounded queue and never waits: when the API's thread is
// stuck long enough for it to fill, what does not fit is lost, counted, and every client is told a gap
// (the blotter then reads the state again), never dropped in silence.
TEST(ApiServerStream, EventsThatFindTheQueueFullAreCountedAndEveryClientIsToldAGap) {
  namespace beast = boost::beast;
  namespace asio = boost::asio;
  ApiConfig config;
  config.enabled = true;
  config.port = 0;
  config.stream_queue = 200000;  // the client is not dropped as slow for the burst it gets
  config.tokens.push_back({"val", "viewer", sha256_hex("val-secret")});
  std::promise<void> stuck, release;
  std::shared_future<void> released = release.get_future().share();
  ApiServer* server_ptr = nullptr;
  ApiServer::Handlers handlers;
  handlers.on_call = [&](ApiCall call) {
    stuck.set_value();
    released.wait();  // the API's thread, held here
    server_ptr->respond(call.id, {200, "application/json", "{}"});
  };
  auto started = ApiServer::start(config, handlers);
  ASSERT_TRUE(started) << started.error().message;
  server_ptr = started->get();
  const auto port = static_cast<unsigned short>(server_ptr->port());

  asio::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.handshake("127.0.0.1", "/api/v1/stream");
  ws.write(asio::buffer(std::string("{\"token\":\"val-secret\"}")));
  beast::flat_buffer buffer;
  ws.read(buffer);
  ASSERT_NE(beast::buffers_to_string(buffer.data()).find("\"hello\""), std::string::npos);
  buffer.clear();

  // Hold the API's thread in a call, then publish more than the queue holds.
  std::thread caller([port] {
    asio::io_context io;
    beast::tcp_stream http(io);
    http.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string request =
        "GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer val-secret\r\n\r\n";
    asio::write(http, asio::buffer(request));
    beast::flat_buffer b;
    beast::http::response<beast::http::string_body> answer;
    beast::error_code ec;
    beast::http::read(http, b, answer, ec);
  });
  stuck.get_future().wait();
  constexpr std::uint64_t kPublished = 65536 + 7;
  for (std::uint64_t seq = 1; seq <= kPublished; ++seq)
    server_ptr->publish(seq, "{\"seq\":" + std::to_string(seq) + "}");
  EXPECT_EQ(server_ptr->stats().events_lost, 7u);
  release.set_value();
  caller.join();

  // Every event that fit, in order, then the gap.
  std::uint64_t next_seq = 1;
  bool gap = false;
  // A read waits 10 s at most: an event or a gap that never comes fails the test instead of hanging it.
  auto read_within_10s = [&]() -> bool {
    bool read = false;
    ws.async_read(buffer, [&](beast::error_code ec, std::size_t) { read = !ec; });
    ioc.restart();
    ioc.run_for(std::chrono::seconds(10));
    return read;
  };
  while (!gap) {
    ASSERT_TRUE(read_within_10s()) << "nothing more came after seq " << next_seq - 1;
    const std::string text = beast::buffers_to_string(buffer.data());
    buffer.clear();
    // One event, or an array of what waited (the gap may close the last one).
    const std::size_t gap_at = text.find("{\"type\":\"gap\"");
    for (std::size_t at = text.find("\"seq\":"); at != std::string::npos && at < gap_at;
         at = text.find("\"seq\":", at + 1))
      ASSERT_EQ(std::stoull(text.substr(at + 6)), next_seq++) << "an event out of order or missing";
    if (gap_at != std::string::npos) {
      const std::string told = "{\"type\":\"gap\",\"lost\":7}";
      EXPECT_EQ(text.substr(gap_at, told.size()), told) << text.substr(gap_at);
      EXPECT_EQ(text.find("\"seq\":", gap_at), std::string::npos) << "an event after the gap";
      gap = true;
    }
  }
  EXPECT_EQ(next_seq - 1, 65536u);
  EXPECT_EQ(server_ptr->stats().events_published, 65536u);
  beast::get_lowest_layer(ws).close();
  server_ptr->stop();
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
