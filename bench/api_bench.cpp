// `tranche serve`'s HTTP API under load, each figure beside its baseline from the same run:
//   - SubmitToAck: parents submitted at a paced 1,000 a second for 3 s, over FIX (a QuickFIX client) to one
//     fresh server, then over the API (8 keep-alive HTTP connections) to another; the ack's latency is
//     measured from each request's scheduled send time (so a stalled server cannot hide its queue), p50 and
//     p99, and the ratio of the API's to FIX's.
//   - StreamFanout: the kernel's decision latency (a market event's handling: the median of the p99s of 1 s
//     windows, from `--stats-every`) on one server taking parents at 200 a second, in alternating 5 s phases
//     without and with 100 WebSocket clients receiving every event; and the ratio (the goal: within 10%).
//     Twice: with the kernel alone on the last CPU (`--kernel-cpu`; serve's other threads and this whole
//     bench, clients included, on the others), as a latency-minded deployment runs it, and with every
//     thread placed by the operating system.
// Every venue of the servers is this process's ack-and-fill QuickFIX acceptor (`--exchange`), and each parent
// is a market order for 0.01 ETH: accepted, one child, filled, done.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "serve_bench_support.hpp"
#include "service/cpu_pinning.hpp"

namespace {

using namespace tranche::bench;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

constexpr const char* kVenues[] = {"binance-spot", "binance-usdm", "binance-coinm"};

// A blocking HTTP/1.1 keep-alive connection to the API: one request, then its whole answer.
class HttpConnection {
 public:
  explicit HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~HttpConnection() { ::close(fd_); }
  bool ok() const { return ok_; }
  // The status of the answer, 0 on a failure.
  int request(const std::string& method, const std::string& path, const std::string& body,
              const char* token) {
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < r.size();) {
      const ssize_t n = ::send(fd_, r.data() + sent, r.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      sent += static_cast<std::size_t>(n);
    }
    // Headers, then Content-Length bytes.
    for (;;) {
      const auto end = in_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto cl = in_.find("Content-Length: ");
        const std::size_t length = cl == std::string::npos ? 0 : std::stoul(in_.substr(cl + 16));
        if (in_.size() >= end + 4 + length) {
          const int status = std::stoi(in_.substr(9, 3));
          in_.erase(0, end + 4 + length);
          return status;
        }
      }
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return 0;
      in_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string in_;
};

// A server and its venues: `tranche serve --exchange` against this process's acceptor, its API on a free
// port.
struct Server {
  Stamps stamps;
  AckOnly venue{stamps, true};
  int venue_port = free_port(), fix_port = free_port(), api_port = free_port();
  std::unique_ptr<Acceptor> venues;
  std::unique_ptr<Serve> serve;
  std::string stats_file;
  explicit Server(bool stats, int kernel_cpu = -1) {
    venues = std::make_unique<Acceptor>(
        venue, venue_port,
        std::vector<std::pair<std::string, std::string>>{
            {kVenues[0], "TRANCHE"}, {kVenues[1], "TRANCHE"}, {kVenues[2], "TRANCHE"}});
    std::vector<std::string> extra = {"--api-port", std::to_string(api_port)};
    if (kernel_cpu >= 0) extra.insert(extra.end(), {"--kernel-cpu", std::to_string(kernel_cpu)});
    if (stats) {
      stats_file =
          (std::filesystem::temp_directory_path() / ("api_bench_stats_" + std::to_string(api_port))).string();
      extra.insert(extra.end(), {"--stats-every", "1s"});
    }
    serve = std::make_unique<Serve>(fix_port, venue_port, extra, stats ? stats_file.c_str() : nullptr);
    for (int i = 0; i < 1000 && venue.logged_on < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int i = 0; i < 500; ++i) {
      HttpConnection c(api_port);
      if (c.ok() && c.request("GET", "/healthz", "", "") == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the replay's books fill
  }
  ~Server() {
    serve.reset();
    if (!stats_file.empty()) std::filesystem::remove(stats_file);
  }
};

std::string api_parent(std::uint64_t n) {
  return "{\"client_order_id\":\"a" + std::to_string(n) +
         "\",\"instrument\":\"ETH-USDT\",\"side\":\"buy\",\"qty\":\"0.01\",\"algo\":\"market\"}";
}

struct Load {
  std::vector<double> latency_us;  // from each request's scheduled time to its ack
  std::uint64_t refused = 0;
  double seconds = 0;
};

// `rate` parents a second for `seconds` over the API from `connections` connections; request i is due at
// start + i / rate, and waits for a free connection if none is.
Load api_load(int port, double rate, double seconds, int connections, std::size_t first_id = 0) {
  const std::size_t total = static_cast<std::size_t>(rate * seconds);
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  Load load;
  const std::int64_t start = now_ns() + 50'000'000;
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c)
    threads.emplace_back([&] {
      HttpConnection conn(port);
      std::vector<double> mine;
      std::uint64_t refused = 0;
      for (std::size_t i; (i = next.fetch_add(1)) < total;) {
        const std::int64_t due = start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
        while (now_ns() < due) std::this_thread::sleep_for(std::chrono::microseconds(50));
        const int status =
            conn.request("POST", "/api/v1/parents", api_parent(first_id + i + 1), "demo-trader");
        const std::int64_t done = now_ns();
        if (status != 201) ++refused;
        mine.push_back(static_cast<double>(done - due) / 1e3);
      }
      std::lock_guard lock(mutex);
      load.latency_us.insert(load.latency_us.end(), mine.begin(), mine.end());
      load.refused += refused;
    });
  for (auto& t : threads) t.join();
  load.seconds = static_cast<double>(now_ns() - start) / 1e9;
  return load;
}

Load fix_load(Server& server, double rate, double seconds, char prefix) {
  Client client(server.stamps);
  client.parent = {"0.01", "", "market", ""};
  Initiator session(client, server.fix_port, "CLIENT1", "TRANCHE");
  Load load;
  if (!client.logged_on) return load;
  const std::size_t total = static_cast<std::size_t>(rate * seconds);
  std::vector<std::pair<std::string, std::int64_t>> sent;
  const std::int64_t start = now_ns() + 50'000'000;
  for (std::size_t i = 0; i < total; ++i) {
    const std::int64_t due = start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
    while (now_ns() < due) std::this_thread::sleep_for(std::chrono::microseconds(50));
    const std::string id = numbered(prefix, i + 1);
    sent.emplace_back(id, due);
    client.send_parent(id);
  }
  server.stamps.wait([&] { return server.stamps.acked.count(sent.back().first) != 0; },
                     std::chrono::seconds(30));
  load.seconds = static_cast<double>(now_ns() - start) / 1e9;
  std::lock_guard lock(server.stamps.mutex);
  for (const auto& [id, due] : sent) {
    auto it = server.stamps.acked.find(id);
    if (it == server.stamps.acked.end()) {
      ++load.refused;
      continue;
    }
    load.latency_us.push_back(static_cast<double>(it->second - due) / 1e3);
  }
  return load;
}

void SubmitToAck(benchmark::State& state) {
  constexpr double kRate = 1000, kSeconds = 3;
  Load fix, api;
  for (auto _ : state) {
    // Each server first takes a second of the same load unmeasured: its recordings read in, its journal and
    // allocator warm, as a server that has been up a while.
    {
      Server server(false);
      fix_load(server, kRate, 1, 'W');
      fix = fix_load(server, kRate, kSeconds, 'F');
    }
    {
      Server server(false);
      api_load(server.api_port, kRate, 1, 8, 1'000'000);
      api = api_load(server.api_port, kRate, kSeconds, 8);
    }
  }
  if (fix.latency_us.empty() || api.latency_us.empty()) {
    state.SkipWithError("no acks: the servers did not start or answer");
    return;
  }
  const double fix50 = percentile(fix.latency_us, 0.5), fix99 = percentile(fix.latency_us, 0.99);
  const double api50 = percentile(api.latency_us, 0.5), api99 = percentile(api.latency_us, 0.99);
  state.counters["fix_ack_p50_us"] = fix50;
  state.counters["fix_ack_p99_us"] = fix99;
  state.counters["api_ack_p50_us"] = api50;
  state.counters["api_ack_p99_us"] = api99;
  state.counters["api_over_fix_p50"] = api50 / fix50;
  state.counters["api_over_fix_p99"] = api99 / fix99;
  state.counters["fix_per_second"] = static_cast<double>(fix.latency_us.size()) / fix.seconds;
  state.counters["api_per_second"] = static_cast<double>(api.latency_us.size()) / api.seconds;
  state.counters["fix_unanswered"] = static_cast<double>(fix.refused);
  state.counters["api_not_201"] = static_cast<double>(api.refused);
}
BENCHMARK(SubmitToAck)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

// 100 WebSocket clients on one I/O thread, each reading every event and counting it.
class StreamClients {
 public:
  StreamClients(int port, int n) {
    for (int i = 0; i < n; ++i) {
      auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(io_);
      asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(port));
      beast::get_lowest_layer(*ws).connect(endpoint);
      ws->handshake("127.0.0.1", "/api/v1/stream");
      ws->write(asio::buffer(std::string("{\"token\":\"demo-viewer\"}")));
      clients_.push_back(ws);
    }
    for (auto& ws : clients_) read(ws);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StreamClients() {
    asio::post(io_, [this] {
      for (auto& ws : clients_) beast::get_lowest_layer(*ws).close();
    });
    io_.stop();
    thread_.join();
  }
  std::uint64_t messages() const { return messages_.load(); }

 private:
  void read(std::shared_ptr<websocket::stream<beast::tcp_stream>> ws) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    ws->async_read(*buffer, [this, ws, buffer](beast::error_code ec, std::size_t) {
      if (ec) return;
      // One event, or an array of the events that waited: each event has its "seq".
      const std::string text = beast::buffers_to_string(buffer->data());
      std::size_t events = 0;
      for (std::size_t at = text.find("\"seq\""); at != std::string::npos; at = text.find("\"seq\"", at + 5))
        ++events;
      messages_.fetch_add(events);
      read(ws);
    });
  }
  asio::io_context io_;
  std::vector<std::shared_ptr<websocket::stream<beast::tcp_stream>>> clients_;
  std::thread thread_;
  std::atomic<std::uint64_t> messages_{0};
};

// While it lives, the calling thread and the threads it starts keep off `cpu`; then it may run anywhere
// again.
class KeepOff {
 public:
  explicit KeepOff(int cpu) {
    ::sched_getaffinity(0, sizeof before_, &before_);
    if (cpu < 0) return;
    if (const tranche::Status kept = tranche::service::keep_off_cpu(cpu); !kept)
      std::fprintf(stderr, "api_bench: %s\n", kept.message().c_str());
  }
  ~KeepOff() { ::sched_setaffinity(0, sizeof before_, &before_); }
  KeepOff(const KeepOff&) = delete;
  KeepOff& operator=(const KeepOff&) = delete;

 private:
  cpu_set_t before_{};
};

// -1 when this machine has a single CPU (nothing to keep apart).
int last_cpu() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 2 ? static_cast<int>(n - 1) : -1;
}

// The kernel's market-event p99 of each --stats-every window (1 s) in the stats lines [from, to).
std::vector<double> window_p99s_us(const std::string& file, std::size_t from, std::size_t to,
                                   std::uint64_t& events) {
  std::ifstream in(file);
  std::string line;
  std::vector<double> p99;
  for (std::size_t n = 0; n < to && std::getline(in, line); ++n) {
    if (n < from) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("market_event")) continue;
    const auto count = j["market_event"]["count"].get<std::uint64_t>();
    if (count == 0) continue;
    p99.push_back(j["market_event"]["p99_ns"].get<double>() / 1e3);
    events += count;
  }
  return p99;
}

std::size_t lines_in(const std::string& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

struct Fanout {
  std::vector<double> alone_us, fanned_us;  // each 1 s window's p99, by phase kind
  std::uint64_t alone_events = 0, fanned_events = 0, delivered = 0;
};

// One server under a steady 200 parents a second over the API, in alternating 5 s phases: no stream client,
// then 100 clients reading every event, and so on (kPhases in all). The first window of each phase (clients
// connecting or leaving) is left out; the rest are compared: the same server, the same load, the same stretch
// of market, so what differs between the two kinds of window is the clients.
Fanout fanout_run(int kernel_cpu) {
  constexpr int kPhases = 12;
  constexpr int kPhaseSeconds = 5;
  KeepOff keep_off(kernel_cpu);
  Server server(true, kernel_cpu);
  Fanout f;
  std::thread load([&] { api_load(server.api_port, 200, kPhases * kPhaseSeconds + 1, 4); });
  for (int phase = 0; phase < kPhases; ++phase) {
    const bool with_clients = phase % 2 == 1;
    std::unique_ptr<StreamClients> streams;
    if (with_clients) streams = std::make_unique<StreamClients>(server.api_port, 100);
    const std::size_t from = lines_in(server.stats_file) + 1;
    std::this_thread::sleep_for(std::chrono::seconds(kPhaseSeconds));
    const std::size_t to = lines_in(server.stats_file);
    std::vector<double>& into = with_clients ? f.fanned_us : f.alone_us;
    const auto windows =
        window_p99s_us(server.stats_file, from, to, with_clients ? f.fanned_events : f.alone_events);
    into.insert(into.end(), windows.begin(), windows.end());
    if (streams) f.delivered += streams->messages();
  }
  load.join();
  return f;
}

// Arg 1: the kernel pinned; 0: not.
void StreamFanout(benchmark::State& state) {
  const int kernel_cpu = state.range(0) == 1 ? last_cpu() : -1;
  if (state.range(0) == 1 && kernel_cpu < 0) {
    state.SkipWithError("one CPU: no core to give the kernel alone");
    return;
  }
  Fanout f;
  for (auto _ : state) f = fanout_run(kernel_cpu);
  state.SetLabel(kernel_cpu >= 0 ? "kernel alone on CPU " + std::to_string(kernel_cpu) : "kernel not pinned");
  const double alone = percentile(f.alone_us, 0.5), fanned = percentile(f.fanned_us, 0.5);
  state.counters["decision_p99_us_no_clients"] = alone;
  state.counters["decision_p99_us_100_clients"] = fanned;
  state.counters["decision_p99_ratio"] = alone > 0 ? fanned / alone : 0;
  state.counters["windows_no_clients"] = static_cast<double>(f.alone_us.size());
  state.counters["windows_100_clients"] = static_cast<double>(f.fanned_us.size());
  state.counters["events_delivered"] = static_cast<double>(f.delivered);
  state.counters["market_events_no_clients"] = static_cast<double>(f.alone_events);
  state.counters["market_events_100_clients"] = static_cast<double>(f.fanned_events);
}
BENCHMARK(StreamFanout)
    ->ArgName("kernel_pinned")
    ->Arg(1)
    ->Arg(0)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
