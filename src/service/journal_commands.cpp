#include "service/journal_commands.hpp"

#include <filesystem>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/config.hpp"
#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "service/order_json.hpp"
#include "service/sim_commands.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

namespace {

std::string px(Price p) {
  return p.is_set() ? p.to_string() : std::string("-");
}
std::string ts(TimestampNs t) {
  return t != 0 ? format_time(t) : std::string("-");
}

}  // namespace

int journal_command(const JournalOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche journal: " << message << "\n";
    return 2;
  };
  if (!std::filesystem::exists(options.file)) return fail(options.file + ": no such file");
  auto config = load_config(options.config.empty() ? default_config_path() : options.config);
  if (!config) return fail(config.error().message);
  auto journal = oms::Journal::open(options.file, {false, true});
  if (!journal) return fail(journal.error().message);

  oms::Oms state(*config);
  state.keep_everything();  // every parent of the journal is shown and verified, however old
  std::string breach;
  state.set_invariant_handler([&](const std::string& context) {
    if (breach.empty()) breach = context;
  });
  std::uint64_t records = 0;
  TimestampNs first_ns = 0, last_ns = 0;
  std::map<std::string, std::uint64_t> by_type;
  const Status replayed = (*journal)->replay([&](const oms::Record& r) -> Status {
    ++records;
    if (first_ns == 0) first_ns = r.ts_ns;
    last_ns = r.ts_ns;
    ++by_type[oms::to_string(r.type())];
    if (auto s = state.apply(r); !s)
      return make_error("record " + std::to_string(r.seq) + ": " + s.message());
    return {};
  });

  if (options.view == "verify") {
    Status verdict = replayed;
    if (verdict.ok() && !breach.empty()) verdict = make_error(breach);
    if (verdict.ok()) verdict = state.verify();
    ordered_json j;
    j["file"] = options.file;
    j["records"] = records;
    j["ok"] = verdict.ok();
    if (!verdict.ok()) j["error"] = verdict.message();
    j["anomalies"] = state.anomalies_total();
    j["oddities"] = state.oddities_total();
    if (options.json) {
      out << j.dump(2) << "\n";
    } else if (verdict.ok()) {
      out << "ok: " << records << " records replayed, every invariant holds (" << state.anomalies_total()
          << " anomalies, " << state.oddities_total() << " venue oddities recorded)\n";
    } else {
      out << "FAILED after " << records << " records: " << verdict.message() << "\n";
    }
    return verdict.ok() ? 0 : 1;
  }
  if (!replayed) return fail(replayed.message());

  ordered_json j;
  if (options.view == "summary") {
    j["file"] = options.file;
    j["records"] = records;
    j["first"] = ts(first_ns);
    j["last"] = ts(last_ns);
    ordered_json types = ordered_json::object();
    for (const auto& [type, n] : by_type) types[type] = n;
    j["records_by_type"] = types;
    std::map<std::string, int> parents, children;
    for (const auto& [_, p] : state.parents()) ++parents[oms::to_string(p.state)];
    for (const auto& [_, c] : state.children()) ++children[std::string(to_string(c.status))];
    j["parents"] = parents;
    j["children"] = children;
    j["fills"] = state.fills().size();
    j["anomalies"] = state.anomalies_total();
    j["oddities"] = state.oddities_total();
    j["denials"] = state.denials_total();
    ordered_json denial_list = ordered_json::array();
    for (const auto& d : state.denials())
      denial_list.push_back({{"parent_id", d.parent.value()},
                             {"child_id", d.child.value()},
                             {"venue", d.venue.str()},
                             {"reason_code", d.reason_code},
                             {"text", d.text}});
    j["risk_denials"] = denial_list;
    ordered_json anomaly_list = ordered_json::array();
    for (const auto& a : state.anomalies())
      anomaly_list.push_back(
          {{"seq", a.seq}, {"child_id", a.child.value()}, {"kind", a.kind}, {"text", a.text}});
    j["anomaly_list"] = anomaly_list;
    ordered_json kills = ordered_json::array();
    for (const auto& k : state.kill_switches())
      kills.push_back({{"scope", oms::to_string(k.scope)}, {"target", k.target}, {"reason", k.reason}});
    j["kill_switches"] = kills;
    ordered_json parent_list = ordered_json::array();
    for (const auto& [id, p] : state.parents()) {
      ordered_json pj;
      pj["parent_id"] = id;
      pj["instrument"] = p.order.instrument.str();
      pj["side"] = p.order.side == Side::Buy ? "buy" : "sell";
      pj["qty"] = p.order.qty.to_string();
      pj["executed"] = p.executed.to_string();
      pj["average_price"] = px(p.average_price());
      pj["state"] = oms::to_string(p.state);
      pj["algo"] = p.order.algo;
      pj["children"] = p.children.size();
      pj["fees"] = fees_json(p.fees);
      parent_list.push_back(pj);
    }
    j["parent_orders"] = parent_list;
    if (!options.json) {
      out << options.file << ": " << records << " records, " << ts(first_ns) << " to " << ts(last_ns) << "\n";
      for (const auto& pj : parent_list)
        out << "  parent " << pj["parent_id"].get<std::uint64_t>() << " " << pj["side"].get<std::string>()
            << " " << pj["qty"].get<std::string>() << " " << pj["instrument"].get<std::string>() << " ("
            << pj["algo"].get<std::string>() << "): " << pj["state"].get<std::string>() << ", executed "
            << pj["executed"].get<std::string>() << " at " << pj["average_price"].get<std::string>() << " in "
            << pj["children"].get<std::size_t>() << " children\n";
      out << "  children:";
      for (const auto& [status, n] : children) out << " " << status << " " << n;
      out << "\n  fills " << state.fills().size() << ", anomalies " << state.anomalies_total()
          << ", venue oddities " << state.oddities_total() << ", risk denials " << state.denials_total()
          << "\n";
      for (const auto& d : state.denials()) out << "  denied: " << d.reason_code << ": " << d.text << "\n";
      for (const auto& a : state.anomalies())
        out << "  anomaly at record " << a.seq << ", child " << a.child.value() << ": " << a.kind << ": "
            << a.text << "\n";
      for (const auto& k : state.kill_switches())
        out << "  KILL SWITCH engaged (" << oms::to_string(k.scope)
            << (k.target.empty() ? "" : " " + k.target) << "): " << k.reason << "\n";
      return 0;
    }
  } else if (options.view == "orders") {
    ordered_json list = ordered_json::array();
    for (const auto& [_, c] : state.children()) {
      if (options.parent != 0 && c.order.parent_id.value() != options.parent) continue;
      if (!options.state.empty() && to_string(c.status) != options.state) continue;
      if (!options.venue.empty() && c.order.venue.view() != options.venue) continue;
      list.push_back(child_json(c));
    }
    j["orders"] = list;
    if (!options.json) {
      out << std::left << std::setw(8) << "child" << std::setw(8) << "parent" << std::setw(16) << "venue"
          << std::setw(6) << "side" << std::setw(12) << "price" << std::setw(12) << "qty" << std::setw(12)
          << "cum"
          << "status\n";
      for (const auto& c : list)
        out << std::setw(8) << c["child_id"].get<std::uint64_t>() << std::setw(8)
            << c["parent_id"].get<std::uint64_t>() << std::setw(16) << c["venue"].get<std::string>()
            << std::setw(6) << c["side"].get<std::string>() << std::setw(12) << c["price"].get<std::string>()
            << std::setw(12) << c["qty"].get<std::string>() << std::setw(12)
            << c["cum_qty"].get<std::string>() << c["status"].get<std::string>() << "\n";
      return 0;
    }
  } else if (options.view == "fills") {
    ordered_json list = ordered_json::array();
    for (const auto& f : state.fills()) list.push_back(fill_json(f));
    j["fills"] = list;
    if (!options.json) {
      for (const auto& f : list)
        out << ts(f["ts_ns"].get<TimestampNs>()) << "  child " << f["child_id"].get<std::uint64_t>() << "  "
            << f["venue"].get<std::string>() << "  " << f["side"].get<std::string>() << " "
            << f["qty"].get<std::string>() << " @ " << f["price"].get<std::string>() << "  "
            << f["liquidity"].get<std::string>() << "  fee " << f["fee"].get<std::string>() << " "
            << f["fee_asset"].get<std::string>() << "\n";
      return 0;
    }
  } else if (options.view == "positions") {
    ordered_json list = ordered_json::array();
    for (const auto& [_, p] : state.positions()) list.push_back(position_json(p));
    j["positions"] = list;
    if (!options.json) {
      for (const auto& p : list)
        out << p["account"].get<std::string>() << "  " << p["instrument"].get<std::string>() << "  "
            << p["qty"].get<std::string>() << " at " << p["average_entry"].get<std::string>() << ", realized "
            << p["realized_pnl"].get<std::string>() << ", fees " << p["fees"].dump() << "\n";
      return 0;
    }
  } else if (options.view == "history") {
    const oms::ChildOrder* c = state.child(ClientOrderId(options.order));
    if (c == nullptr) return fail("no order " + std::to_string(options.order) + " in " + options.file);
    std::map<std::uint64_t, bool> wanted;
    for (std::uint64_t seq : state.history(ClientOrderId(options.order))) wanted[seq] = true;
    ordered_json list = ordered_json::array();
    (void)(*journal)->replay([&](const oms::Record& r) -> Status {
      if (!wanted.count(r.seq)) return {};
      ordered_json rj;
      rj["seq"] = r.seq;
      rj["ts"] = ts(r.ts_ns);
      rj["type"] = oms::to_string(r.type());
      if (const auto* e = std::get_if<ExecutionReport>(&r.body)) {
        rj["exec_type"] = std::string(to_string(e->exec_type));
        rj["status"] = std::string(to_string(e->status));
        if (e->exec_type == ExecType::Trade)
          rj["fill"] = e->last_qty.to_string() + " @ " + e->last_price.to_string();
        if (!e->text.empty()) rj["text"] = e->text.str();
      }
      list.push_back(rj);
      return {};
    });
    j["order"] = child_json(*c);
    j["history"] = list;
    if (!options.json) {
      out << "child " << options.order << ": " << to_string(c->status) << ", " << c->cum_qty.to_string()
          << " of " << c->order.qty.to_string() << " on " << c->order.venue.view() << "\n";
      for (const auto& r : list) {
        out << "  " << r["seq"].get<std::uint64_t>() << "  " << r["ts"].get<std::string>() << "  "
            << r["type"].get<std::string>();
        if (r.contains("exec_type")) out << " " << r["exec_type"].get<std::string>();
        if (r.contains("fill")) out << " " << r["fill"].get<std::string>();
        if (r.contains("text")) out << " (" << r["text"].get<std::string>() << ")";
        out << "\n";
      }
      return 0;
    }
  } else if (options.view == "decisions") {
    // The algos' and the placer's decisions, each with what it weighed (--parent: one parent's).
    ordered_json list = ordered_json::array();
    (void)(*journal)->replay([&](const oms::Record& r) -> Status {
      const auto* d = std::get_if<oms::AlgoStateChange>(&r.body);
      if (d == nullptr || (options.parent != 0 && d->id.value() != options.parent)) return {};
      list.push_back({{"seq", r.seq},
                      {"ts", ts(r.ts_ns)},
                      {"parent", d->id.value()},
                      {"state", d->state},
                      {"detail", d->detail}});
      return {};
    });
    j["decisions"] = list;
    if (!options.json) {
      for (const auto& d : list)
        out << d["ts"].get<std::string>() << "  parent " << d["parent"].get<std::uint64_t>() << "  "
            << d["state"].get<std::string>() << ": " << d["detail"].get<std::string>() << "\n";
      return 0;
    }
  } else {
    return fail("unknown view '" + options.view +
                "': summary, orders, fills, positions, history, decisions or verify");
  }
  out << j.dump(2) << "\n";
  return 0;
}

int kill_switch_command(const KillSwitchOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche risk " << options.action << ": " << message << "\n";
    return 2;
  };
  oms::KillScope scope;
  if (options.scope == "global") {
    scope = oms::KillScope::Global;
  } else if (options.scope == "account") {
    scope = oms::KillScope::Account;
  } else if (options.scope == "venue") {
    scope = oms::KillScope::Venue;
  } else {
    return fail("--scope must be global, account or venue");
  }
  if (scope != oms::KillScope::Global && options.target.empty())
    return fail("--target names the account or venue");
  if (options.reason.empty()) return fail("--reason is required: the journal keeps why");
  auto journal = oms::Journal::open(options.journal, {false, false});
  if (!journal) return fail(journal.error().message);
  // The record's time: the journal's last, so it sorts after everything it stops.
  TimestampNs last = 0;
  if (auto s = (*journal)->replay([&](const oms::Record& r) {
        last = r.ts_ns;
        return Status{};
      });
      !s)
    return fail(s.message());
  const oms::KillSwitchChange change{
      scope, scope == oms::KillScope::Global ? std::string() : options.target,
      options.action == "kill" ? oms::KillAction::Engage : oms::KillAction::Release, options.reason};
  auto appended = (*journal)->append(options.at != 0 ? options.at : last, change);
  if (!appended) return fail(appended.error().message);
  if (auto s = (*journal)->commit(); !s) return fail(s.message());
  out << (options.action == "kill" ? "kill switch engaged" : "kill switch released") << " (" << options.scope
      << (options.target.empty() ? "" : " " + options.target) << ") in " << options.journal << ", record "
      << *appended << "\n";
  return 0;
}

}  // namespace tranche::service
