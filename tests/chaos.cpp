// Chaos: every fault the simulator injects, all at once on every venue, seeded, while parents of every algo
// run through the one kernel (service::Runtime, as `tranche execute` and `tranche serve` run them): reports
// dropped, duplicated, delayed and reordered; fills that arrive after their cancel's answer; orders the venue
// rejects; sessions that drop and come back; venues that halt; market data that goes stale. For each seed:
//   - every parent reaches a terminal state;
//   - nothing is overfilled (a child beyond its quantity, a parent beyond its size);
//   - every OMS invariant holds after every event (the OMS's own checks as each record is applied, and
//     Oms::verify after each commit);
//   - the journal, read back, replays into a fresh OMS that verifies and agrees with the live one on what
//     every parent executed;
//   - with a short memory horizon ([oms] forget_ended_after = 20s), ended parents leave memory on the way
//     and every invariant still holds; a forgotten parent is read back from the journal.
// Usage: chaos [--seeds N] [--first SEED] [--json]   (make chaos: 1,000 seeds; make test: a few)
// The seed of any failure is printed; `chaos --first SEED --seeds 1` reruns it alone.
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "service/runtime.hpp"
#include "sim/rng.hpp"

namespace tranche {
namespace {

const std::vector<std::string> kAlgos = {"market", "twap", "vwap", "pov", "is", "iceberg", "peg", "seek"};

struct Outcome {
  std::uint64_t seed = 0;
  int parents = 0, ended = 0, stuck = 0;
  int breaches = 0, verify_failures = 0, journal_mismatches = 0, overfills = 0;
  std::uint64_t commits_checked = 0;
  std::uint64_t reports_dropped = 0, reports_duplicated = 0, requests_refused = 0;
  int forgotten = 0;  // parents that left memory before the end
  std::string first_problem;
  bool ok() const {
    return stuck == 0 && breaches == 0 && verify_failures == 0 && journal_mismatches == 0 && overfills == 0 &&
           first_problem.empty();
  }
  void problem(const std::string& what) {
    if (first_problem.empty()) first_problem = what;
  }
};

// Windows of `count` at most, each `shortest` to `longest` long, inside [from, to), none overlapping `taken`
// (disconnects and halts of one venue may not overlap) or each other.
std::vector<TimeWindow> windows(sim::Rng& rng, int count, TimestampNs from, TimestampNs to,
                                DurationNs shortest, DurationNs longest, std::vector<TimeWindow>& taken) {
  std::vector<TimeWindow> out;
  for (int i = 0; i < count; ++i) {
    const DurationNs length = rng.uniform_int(shortest, longest);
    const TimestampNs start = rng.uniform_int(from, std::max(from, to - length));
    const TimeWindow w{start, start + length};
    bool overlaps = false;
    for (const auto& t : taken) overlaps = overlaps || (w.start_ns < t.end_ns && t.start_ns < w.end_ns);
    if (overlaps) continue;
    taken.push_back(w);
    out.push_back(w);
  }
  return out;
}

double rate(sim::Rng& rng, double lo, double hi) {
  return lo + (hi - lo) * rng.uniform();
}

// Every fault on every venue, drawn from the seed.
void inject_faults(Config& config, sim::Rng& rng, TimestampNs from, TimestampNs to) {
  for (auto& venue : config.venues) {
    if (!venue.sim) continue;
    VenueFaults& f = venue.sim->faults;
    f.drop_ack = rate(rng, 0.01, 0.08);
    f.drop_fill = rate(rng, 0.01, 0.08);
    f.duplicate = rate(rng, 0.02, 0.15);
    f.delay = rate(rng, 0.02, 0.15);
    f.delay_by_ns = rng.uniform_int(10, 300) * kNanosPerMilli;
    f.reorder = rate(rng, 0.02, 0.2);
    f.reorder_within_ns = rng.uniform_int(1, 30) * kNanosPerMilli;
    f.fill_after_cancel = rate(rng, 0.05, 0.5);
    f.reject = rate(rng, 0.01, 0.08);
    std::vector<TimeWindow> taken;
    f.disconnects = windows(rng, static_cast<int>(rng.uniform_int(0, 2)), from, to, kNanosPerSecond,
                            8 * kNanosPerSecond, taken);
    f.halts = windows(rng, static_cast<int>(rng.uniform_int(0, 1)), from, to, 2 * kNanosPerSecond,
                      10 * kNanosPerSecond, taken);
    std::vector<TimeWindow> stale_taken;
    f.stale = windows(rng, static_cast<int>(rng.uniform_int(0, 2)), from, to, kNanosPerSecond,
                      10 * kNanosPerSecond, stale_taken);
  }
}

// Checks every invariant after each commit, and counts the invariant breaches the OMS reports as it applies.
class Watcher final : public ems::KernelObserver {
 public:
  Watcher(const oms::Oms& oms, Outcome& out) : oms_(oms), out_(out) {}
  // Each parent as it ended (it may leave memory later).
  void on_parent_ended(ParentId parent, TimestampNs) override {
    if (const oms::ParentRecord* p = oms_.parent(parent)) ended[parent.value()] = *p;
  }
  std::map<std::uint64_t, oms::ParentRecord> ended;
  void after_commit(TimestampNs) override {
    // What an ended parent executed can still grow (a fill after its cancel): its last word before it left
    // memory is kept.
    for (auto& [id, record] : ended)
      if (const oms::ParentRecord* p = oms_.parent(ParentId(id))) record = *p;
    ++out_.commits_checked;
    if (const Status s = oms_.verify(); !s) {
      ++out_.verify_failures;
      out_.problem("after a commit: " + s.message());
    }
  }

 private:
  const oms::Oms& oms_;
  Outcome& out_;
};

Outcome run_seed(const Config& bundled, std::uint64_t seed, const std::filesystem::path& dir) {
  Outcome out;
  out.seed = seed;
  sim::Rng rng;
  rng.reseed(seed * 0x9E3779B97F4A7C15ull + 17);
  Config config = bundled;
  // Longer than any report can be held back here (disconnects up to 8 s, halts up to 10 s): a report for a
  // child already forgotten would not be applied (docs/oms.md#memory).
  config.oms.forget_ended_after_ns = 20 * kNanosPerSecond;
  // Every anomaly stays listed (the OMS keeps the latest [oms] keep_recent): the check at the end reads them
  // all.
  config.oms.keep_recent = 10'000'000;
  const TimestampNs data_start = config.scenario->start_ns;
  const TimestampNs start = data_start + rng.uniform_int(5, 120) * kNanosPerSecond;
  const DurationNs horizon = rng.uniform_int(30, 90) * kNanosPerSecond;
  // The data stops a little after the horizon: whatever is still working then ends with the market.
  config.scenario->end_ns = start + horizon + rng.uniform_int(5, 40) * kNanosPerSecond;
  inject_faults(config, rng, start, config.scenario->end_ns);

  const std::string journal = (dir / ("chaos-" + std::to_string(seed) + ".journal")).string();
  service::RuntimeOptions options;
  options.journal = journal;
  options.sim.seed = seed;
  auto opened = service::Runtime::open(config, options);
  if (!opened) {
    out.problem("the runtime did not open: " + opened.error().message);
    return out;
  }
  std::unique_ptr<service::Runtime> owned = std::move(opened).value();
  service::Runtime& runtime = *owned;
  oms::Oms& oms = runtime.manager().oms();
  oms.set_invariant_handler([&](const std::string& context) {
    ++out.breaches;
    out.problem("invariant: " + context);
  });
  Watcher watcher(oms, out);
  ems::Kernel& kernel = runtime.kernel();
  kernel.set_observer(&watcher);

  // One to three parents of different algos and sides, each over its own part of the horizon; one may be
  // canceled or amended on the way.
  const int parents = static_cast<int>(rng.uniform_int(1, 3));
  std::vector<ParentId> ids;
  for (int i = 0; i < parents; ++i) {
    oms::ParentOrder p;
    p.account = AccountId("default");
    p.instrument = InstrumentId("ETH-USDT");
    p.side = rng.uniform() < 0.5 ? Side::Buy : Side::Sell;
    p.qty = Qty::from_raw(rng.uniform_int(1, 400) * Qty::from_units(1).raw() / 10);
    p.algo =
        kAlgos[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(kAlgos.size()) - 1))];
    p.strategy = "chaos";
    p.start_ns = start + rng.uniform_int(0, 10) * kNanosPerSecond;
    p.end_ns = p.start_ns + horizon - rng.uniform_int(0, 20) * kNanosPerSecond;
    const int action = static_cast<int>(rng.uniform_int(0, 5));
    const DurationNs act_after = rng.uniform_int(5, 40) * kNanosPerSecond;
    if (std::getenv("CHAOS_VERBOSE") != nullptr)
      std::fprintf(stderr, "seed %llu: %s %s %s from %s, then %s after %llds\n",
                   static_cast<unsigned long long>(seed), p.algo.c_str(),
                   p.side == Side::Buy ? "buy" : "sell", p.qty.to_string().c_str(),
                   format_time(p.start_ns).c_str(),
                   action == 0   ? "cancel"
                   : action == 1 ? "amend to half"
                   : action == 2 ? "pause 3s"
                                 : "nothing",
                   static_cast<long long>(act_after / kNanosPerSecond));
    kernel.call_at(p.start_ns, [&, p, action, act_after](TimestampNs now) {
      auto accepted = kernel.submit(p);
      if (!accepted) return;  // refused by the gate: not a parent
      ids.push_back(*accepted);
      const ParentId id = *accepted;
      if (action == 0)
        kernel.call_at(now + act_after, [&, id](TimestampNs) { (void)kernel.cancel(id, "chaos cancel"); });
      if (action == 1)
        kernel.call_at(now + act_after, [&, id, p](TimestampNs) {
          (void)kernel.amend(id, Qty::from_raw(p.qty.raw() / 2), Price::unset(), 0);
        });
      if (action == 2)
        kernel.call_at(now + act_after, [&, id](TimestampNs t) {
          (void)kernel.pause(id);
          kernel.call_at(t + 3 * kNanosPerSecond, [&, id](TimestampNs) { (void)kernel.resume(id); });
        });
    });
  }
  sim::Simulator& sim = runtime.sim();
  while (sim.step()) {
    // As `tranche serve` and `tranche execute` do: once the data has run out the venues are closed.
    if (!kernel.market_closed() && !sim.recording_left()) kernel.data_ended();
    if (sim.now() > config.scenario->end_ns && kernel.working() == 0) break;
  }
  if (kernel.working() > 0) {
    kernel.data_ended();
    while (kernel.working() > 0 && sim.step()) {
    }
  }
  if (!kernel.error().ok()) out.problem("the kernel stopped: " + kernel.error().message());
  out.parents = static_cast<int>(ids.size());
  for (const ParentId id : ids) {
    const oms::ParentRecord* p = oms.parent(id);
    if (p == nullptr) {
      // Forgotten: only an ended parent leaves memory, as it ended.
      auto seen = watcher.ended.find(id.value());
      if (seen == watcher.ended.end()) {
        out.problem("parent " + std::to_string(id.value()) + " left the OMS without ending");
        continue;
      }
      ++out.forgotten;
      p = &seen->second;
    }
    if (kernel.working(id) || p->state == oms::ParentState::Working ||
        p->state == oms::ParentState::PendingCancel) {
      ++out.stuck;
      std::string open;
      for (const oms::ChildOrder* c : oms.children_of(id))
        if (c->open())
          open += " " + std::to_string(c->order.client_order_id.value()) + "@" + c->order.venue.str() + ":" +
                  std::string(to_string(c->status));
      out.problem("parent " + std::to_string(id.value()) + " (" + p->order.algo + ") never ended; at " +
                  format_time(sim.now()) + " its open children:" + (open.empty() ? " none" : open));
    } else {
      ++out.ended;
    }
    if (p->executed > p->order.qty) {
      ++out.overfills;
      out.problem("parent " + std::to_string(id.value()) + " executed " + p->executed.to_string() + " of " +
                  p->order.qty.to_string());
    }
  }
  for (const auto& v : config.venues) {
    const int index = sim.venue_index(v.id);
    if (index < 0) continue;
    const auto& stats = sim.venue_stats(static_cast<std::size_t>(index));
    out.reports_dropped += stats.reports_dropped + stats.reports_lost;
    out.reports_duplicated += stats.reports_duplicated;
    out.requests_refused += stats.requests_refused;
  }
  if (const Status s = oms.verify(); !s) {
    ++out.verify_failures;
    out.problem("at the end: " + s.message());
  }
  // A fill for a child the OMS had forgotten would not have been booked: the horizon must outlast every
  // report.
  if (oms.anomalies().size() != oms.anomalies_total())
    out.problem("the OMS listed " + std::to_string(oms.anomalies().size()) + " of " +
                std::to_string(oms.anomalies_total()) + " anomalies: the check below would miss some");
  for (const oms::Anomaly& a : oms.anomalies())
    if (a.kind == "unknown_order" && a.text.rfind("trade", 0) == 0)
      out.problem("a fill for child " + std::to_string(a.child.value()) + " came after it was forgotten");

  // The journal read back as recovery and `tranche journal verify` read it.
  std::map<std::uint64_t, Qty> executed;
  for (const ParentId id : ids) {
    if (const oms::ParentRecord* p = oms.parent(id))
      executed[id.value()] = p->executed;
    else if (auto seen = watcher.ended.find(id.value()); seen != watcher.ended.end())
      executed[id.value()] = seen->second.executed;
  }
  kernel.set_observer(nullptr);
  owned.reset();
  auto reread = oms::Journal::open(journal, {false, true});
  if (!reread) {
    out.problem("the journal does not open: " + reread.error().message);
    return out;
  }
  oms::Oms replayed(config);
  replayed.set_invariant_handler([&](const std::string& context) {
    ++out.journal_mismatches;
    out.problem("replaying the journal: " + context);
  });
  std::unique_ptr<oms::Journal> journal_read = std::move(reread).value();
  const Status r = journal_read->replay([&](const oms::Record& rec) { return replayed.apply(rec); });
  if (!r) {
    ++out.journal_mismatches;
    out.problem("replaying the journal: " + r.message());
  }
  if (const Status s = replayed.verify(); !s) {
    ++out.journal_mismatches;
    out.problem("the replayed journal: " + s.message());
  }
  for (const auto& [id, qty] : executed) {
    const oms::ParentRecord* p = replayed.parent(ParentId(id));
    std::optional<oms::ParentRecord> read_back;
    if (p == nullptr) {  // forgotten by the replay as by the live OMS: the journal answers for it
      auto back = oms::parent_from_journal(config, *journal_read, ParentId(id));
      if (!back) out.problem("reading parent " + std::to_string(id) + " back: " + back.error().message);
      if (back && back->has_value()) read_back = **back;
      p = read_back ? &*read_back : nullptr;
    }
    if (p == nullptr || p->executed != qty) {
      ++out.journal_mismatches;
      out.problem("parent " + std::to_string(id) + ": the journal says " +
                  (p ? p->executed.to_string() : std::string("nothing")) + ", the OMS said " +
                  qty.to_string());
    }
  }
  journal_read.reset();
  if (out.ok()) {
    for (const char* suffix : {"", "-wal", "-shm", "-lock"}) std::filesystem::remove(journal + suffix);
  } else {  // kept, to read with `tranche journal FILE history|verify`
    const std::string kept =
        (std::filesystem::temp_directory_path() / ("chaos-" + std::to_string(seed) + ".journal")).string();
    std::filesystem::copy_file(journal, kept, std::filesystem::copy_options::overwrite_existing);
    out.first_problem += "; journal kept in " + kept;
  }
  return out;
}

}  // namespace
}  // namespace tranche

int main(int argc, char** argv) {
  using namespace tranche;
  std::uint64_t first = 1, seeds = 10;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      json = true;
    } else if ((a == "--seeds" || a == "--first") && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0') {
        std::fprintf(stderr, "chaos: %s needs a whole number\n", a.c_str());
        return 2;
      }
      (a == "--seeds" ? seeds : first) = v;
    } else {
      std::fprintf(stderr, "usage: chaos [--seeds N] [--first SEED] [--json]\n");
      return 2;
    }
  }
  auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  if (!loaded) {
    std::fprintf(stderr, "chaos: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("tranche-chaos-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::map<std::string, std::uint64_t> totals;
  std::uint64_t failed = 0;
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    const Outcome o = run_seed(*loaded, seed, dir);
    totals["parents"] += static_cast<std::uint64_t>(o.parents);
    totals["ended"] += static_cast<std::uint64_t>(o.ended);
    totals["stuck"] += static_cast<std::uint64_t>(o.stuck);
    totals["overfills"] += static_cast<std::uint64_t>(o.overfills);
    totals["invariant_breaches"] += static_cast<std::uint64_t>(o.breaches);
    totals["verify_failures"] += static_cast<std::uint64_t>(o.verify_failures);
    totals["journal_mismatches"] += static_cast<std::uint64_t>(o.journal_mismatches);
    totals["commits_checked"] += o.commits_checked;
    totals["parents_forgotten_before_the_end"] += static_cast<std::uint64_t>(o.forgotten);
    totals["reports_dropped_or_lost"] += o.reports_dropped;
    totals["reports_duplicated"] += o.reports_duplicated;
    totals["requests_refused_while_down"] += o.requests_refused;
    if (!o.ok()) {
      ++failed;
      std::fprintf(stderr, "chaos: seed %llu FAILED: %s (rerun: chaos --first %llu --seeds 1)\n",
                   static_cast<unsigned long long>(seed), o.first_problem.c_str(),
                   static_cast<unsigned long long>(seed));
    }
  }
  std::filesystem::remove_all(dir);
  totals["seeds"] = seeds;
  totals["seeds_failed"] = failed;
  if (json) {
    std::printf("{");
    const char* sep = "";
    for (const auto& [k, v] : totals) {
      std::printf("%s\"%s\": %llu", sep, k.c_str(), static_cast<unsigned long long>(v));
      sep = ", ";
    }
    std::printf("}\n");
  } else {
    for (const auto& [k, v] : totals)
      std::fprintf(stderr, "%-28s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  }
  return failed == 0 ? 0 : 1;
}
