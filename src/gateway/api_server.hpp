#pragma once
// The network face of `tranche serve`'s HTTP API (docs/api.md): HTTP/1.1 with keep-alive, HTTPS when the
// config names a certificate, and a WebSocket event stream, on Boost.Beast. It runs on a thread of its own
// and never touches the kernel: it checks who is asking (a bearer token, compared by its SHA-256 against the
// config's hashes) and where from (the Origin header), and hands each authenticated request to the kernel's
// thread as an ApiCall; that thread answers with respond(). Events come from the kernel's thread through a
// lock-free queue this thread drains every 2 ms, so the kernel never takes a lock this busy thread may hold,
// nor makes a system call to wake it; they are fanned out here.
//
// Bad input is answered, never fatal: malformed HTTP gets 400, a body over the limit 413, a request without a
// valid token 401 (logged without the token), a foreign Origin 403; a connection beyond max_connections is
// closed at once; an idle one is closed after idle_timeout; a WebSocket client that does not read its events
// (stream_queue of them waiting) is dropped, and the kernel never waits for it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace tranche::gateway {

enum class ApiRole : std::uint8_t { Viewer, Trader, Admin };
const char* to_string(ApiRole role);
// "viewer", "trader", "admin"; nullopt-like false for anything else.
bool parse_api_role(std::string_view text, ApiRole& out);

// The SHA-256 of `text` in lower-case hex: how a token is kept in the config.
std::string sha256_hex(std::string_view text);
// A new random token (32 bytes from the system's CSPRNG, URL-safe base64).
Result<std::string> new_api_token();

// Whether a browser's request from `origin` may be served by a server listening as `self_origins` (its own
// origins: scheme://host:port) with `allowed` extra origins. An empty origin (no header) is allowed: programs
// send none, browsers always do on cross-origin and WebSocket requests.
bool origin_allowed(std::string_view origin, const std::vector<std::string>& self_origins,
                    const std::vector<std::string>& allowed);

// An authenticated request, handed to the kernel's thread.
struct ApiCall {
  std::uint64_t id = 0;  // answer it with ApiServer::respond(id, ...)
  std::string method;    // "GET", "POST", "PATCH", "DELETE", ...
  std::string path;      // without the query
  std::string query;     // after '?', as sent
  std::string body;
  std::string token_name;  // who asked (the token's name in the config)
  ApiRole role = ApiRole::Viewer;
  std::string remote;  // the client's address
};

struct ApiReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// What the server counted, for /metrics (read from any thread).
struct ApiServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_refused = 0;  // beyond max_connections
  std::uint64_t requests = 0;
  std::uint64_t unauthorized = 0;  // 401
  std::uint64_t forbidden_origin = 0;
  std::uint64_t bad_requests = 0;  // 400 and 413 from the transport
  std::uint64_t stream_clients = 0;
  std::uint64_t stream_dropped_slow = 0;
  std::uint64_t events_published = 0;
  std::uint64_t events_lost = 0;  // the kernel's queue to this thread was full (each told as a gap)
};

// A file the server answers GET with itself, without a token (the blotter's page and scripts: they hold no
// data; the data they show comes from the API with the user's token).
struct StaticFile {
  std::string content_type;
  std::string body;
};

class ApiServer {
 public:
  struct Handlers {
    std::function<void(ApiCall)> on_call;            // on the server's thread: queue it for the kernel
    std::function<void(const std::string&)> log;     // a line for the operator (never holds a token)
    std::map<std::string, StaticFile> static_files;  // by path ("/", "/blotter.js")
  };
  // Listens (port 0: any free one); an error names what failed (the address, the certificate).
  static Result<std::unique_ptr<ApiServer>> start(const ApiConfig& config, Handlers handlers);
  ~ApiServer();  // stops
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const;
  // "http://127.0.0.1:9880" (https with TLS).
  std::string origin() const;
  // The answer to call `id`; from any thread. An id whose connection has gone is dropped.
  void respond(std::uint64_t id, ApiReply reply);
  // An event for every stream client: `json` is one JSON object carrying "seq" = `seq` (seqs increase).
  // From one thread only (the kernel's); it is queued, never waited for. Should the queue be full (this
  // server's thread stalled for 65,536 events), the event is lost, counted, and every client is sent a `gap`
  // so that it reads the state again.
  void publish(std::uint64_t seq, std::string json);
  ApiServerStats stats() const;
  // Closes every connection and the listener; idempotent.
  void stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tranche::gateway
