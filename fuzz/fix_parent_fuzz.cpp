// Fuzz target: the FIX parent path of `tranche serve` without its socket. Each line of the input is one FIX
// message: a line starting "8=" is taken as sent (QuickFIX must refuse a bad BodyLength or CheckSum); any
// other line is a message body that gets a correct header and trailer, so the fuzzer reaches past the
// checksum. '|' stands for SOH. Each message goes through QuickFIX's parser and our dictionary's checks
// (gateway::FixParentReader), then into the desk and the kernel on the bundled market, which then runs for
// 50 ms of market time. After every input every OMS invariant must hold, and every request must have had its
// answer. The market, kernel and OMS carry over between inputs (each input is a new client session on them)
// and are rebuilt every kInputsPerServer inputs so that they stay small.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "gateway/fix_parent_acceptor.hpp"
#include "gateway/test_fix_message.hpp"
#include "service/parent_desk.hpp"
#include "service/runtime.hpp"

namespace tranche::fuzz {
namespace {

constexpr int kInputsPerServer = 2000;

// A line starting "8=" as sent; any other, a body given its header and trailer.
std::string frame(std::string_view line) {
  if (!line.starts_with("8=")) return gateway::testing::fix_framed(line);
  std::string raw(line);
  std::replace(raw.begin(), raw.end(), '|', '\x01');
  return raw;
}

// TRANCHE_FUZZ_VERBOSE=1: every refusal and answer on stderr (to read what a reproducer does).
bool verbose() {
  static const bool on = std::getenv("TRANCHE_FUZZ_VERBOSE") != nullptr;
  return on;
}

class Server {
 public:
  Server() {
    service::RuntimeOptions options;  // a temporary journal, removed with the runtime
    runtime_ = std::move(service::Runtime::open(bundled_config(), options)).value();
    desk_ = std::make_unique<service::ParentDesk>(
        bundled_config(), runtime_->kernel(), runtime_->manager(),
        [this](const ParentAnswer& a) { on_answer(a); }, "F", [this] { return runtime_->sim().now(); });
    runtime_->kernel().set_observer(desk_.get());
    sim::Simulator& sim = runtime_->sim();
    sim.run_until(sim.start_ns() + 2 * kNanosPerSecond);  // books built
  }
  ~Server() { runtime_->kernel().set_observer(nullptr); }

  void request(const ParentRequest& r) {
    ++unanswered_[r.cl_ord_id.empty() ? "NONE" : r.cl_ord_id];
    desk_->on_request(r);
  }
  // Runs the market for `d`, longer (up to 5 s) while a request waits for its answer (a cancel is answered
  // once the venues have confirmed its children's ends); a request still unanswered then is a defect.
  void run(DurationNs d) {
    sim::Simulator& sim = runtime_->sim();
    sim.run_until(sim.now() + d);
    for (int i = 0; i < 50 && !unanswered_.empty(); ++i) sim.run_until(sim.now() + 100 * kNanosPerMilli);
    if (!unanswered_.empty()) {
      std::fprintf(stderr, "request '%s' had no answer\n", unanswered_.begin()->first.c_str());
      std::abort();
    }
    if (const Status s = runtime_->manager().oms().verify(); !s) {
      std::fprintf(stderr, "OMS invariant broken: %s\n", s.message().c_str());
      std::abort();
    }
  }

 private:
  void on_answer(const ParentAnswer& a) {
    if (verbose())
      std::fprintf(stderr, "answer %s: exec_type %c status %c cum %s %s\n", a.cl_ord_id.c_str(), a.exec_type,
                   a.ord_status, a.cum_qty.to_string().c_str(), a.text.c_str());
    const auto it = unanswered_.find(a.cl_ord_id);
    if (it != unanswered_.end() && --it->second == 0) unanswered_.erase(it);
  }

  std::unique_ptr<service::Runtime> runtime_;
  std::unique_ptr<service::ParentDesk> desk_;
  std::map<std::string, int> unanswered_;  // by ClOrdID ("NONE" when it had none, as the answer says)
};

const gateway::FixParentReader& reader() {
  static const std::unique_ptr<gateway::FixParentReader> r = [] {
    auto opened = gateway::FixParentReader::open(TRANCHE_FIX_DICTIONARY);
    if (!opened.ok()) {
      std::fprintf(stderr, "fuzz: %s\n", opened.error().message.c_str());
      std::abort();
    }
    return std::move(opened).value();
  }();
  return *r;
}

}  // namespace
}  // namespace tranche::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tranche;
  using namespace tranche::fuzz;
  static std::unique_ptr<Server> server;
  static int inputs = 0;
  // Each input is its own client session: ClOrdIDs of one input never meet another's, so an input that
  // fails fails the same way replayed alone.
  const std::string session = "FIX.4.4:TRANCHE->CLIENT" + std::to_string(++inputs);
  if (!server || inputs % kInputsPerServer == 0) {
    server.reset();
    server = std::make_unique<Server>();
  }
  for (const std::string_view line : lines_of(as_text(data, size))) {
    auto request = reader().read(frame(line), session);
    if (request.ok())
      server->request(*request);
    else if (verbose())
      std::fprintf(stderr, "refused: %s\n", request.error().message.c_str());
  }
  server->run(50 * kNanosPerMilli);
  return 0;
}
