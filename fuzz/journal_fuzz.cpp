// Fuzz target: reading a journal, as start-up, recovery and `tranche journal verify` read one.
//  - Input starting with SQLite's header: a whole journal file, opened read-only and replayed.
//  - Otherwise a list of records as the journal stores them, each `u16 type, u16 version, u16 length` (little
//    endian) and its body bytes, decoded by oms::decode_body.
// Every record that decodes is applied to an OMS (the bundled config) as replay applies it; a record that
// cannot be applied is refused with a reason, and the state must still verify as `tranche journal verify`
// checks it. Invariant breaches are reported as that command reports them (an error), never a crash.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "fuzz_support.hpp"
#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "oms/records.hpp"

namespace {

using namespace tranche;

void refused_without_reason(const char* what) {
  std::fprintf(stderr, "%s refused without a reason\n", what);
  std::abort();
}

struct Replayer {
  oms::Oms state{fuzz::bundled_config()};
  std::string breach;
  Replayer() {
    state.set_invariant_handler([this](const std::string& context) {
      if (breach.empty()) breach = context;
    });
  }
  Status apply(const oms::Record& record) {
    const Status s = state.apply(record);
    if (!s && s.message().empty()) refused_without_reason("a record");
    return s;
  }
  void finish() {
    const Status s = state.verify();
    if (!s && s.message().empty()) refused_without_reason("a state");
  }
};

void replay_file(std::string_view bytes) {
  const std::string path = fuzz::Scratch::get().write("fuzz.journal", bytes);
  for (const char* suffix : {"-wal", "-shm", "-lock"}) std::remove((path + suffix).c_str());
  auto journal = oms::Journal::open(path, {false, true});
  if (!journal.ok()) {
    if (journal.error().message.empty()) refused_without_reason("a journal");
    return;
  }
  Replayer replayer;
  const Status s = (*journal)->replay([&](const oms::Record& r) { return replayer.apply(r); });
  if (!s && s.message().empty()) refused_without_reason("a replay");
  replayer.finish();
}

std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

void replay_records(const std::uint8_t* data, std::size_t size) {
  Replayer replayer;
  std::uint64_t seq = 0;
  TimestampNs ts = 1723161360000000000;
  while (size >= 6) {
    const auto type = static_cast<oms::RecordType>(u16(data));
    const std::uint16_t version = u16(data + 2);
    const std::size_t length = std::min<std::size_t>(u16(data + 4), size - 6);
    const std::span<const std::uint8_t> body(data + 6, length);
    data += 6 + length;
    size -= 6 + length;
    auto decoded = oms::decode_body(type, version, body);
    if (!decoded.ok()) {
      if (decoded.error().message.empty()) refused_without_reason("a record body");
      continue;
    }
    ts += kNanosPerMilli;
    (void)replayer.apply(oms::Record{++seq, ts, std::move(decoded).value()});
  }
  replayer.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr char kSqliteHeader[] = "SQLite format 3";
  if (size >= sizeof kSqliteHeader && std::memcmp(data, kSqliteHeader, sizeof kSqliteHeader) == 0)
    replay_file(fuzz::as_text(data, size));
  else
    replay_records(data, size);
  return 0;
}
