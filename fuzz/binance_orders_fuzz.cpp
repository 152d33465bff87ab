// Fuzz target: what Binance says of our orders (gateway/binance_payloads.hpp) into the tracker that turns it
// into ExecutionReports (gateway/binance_orders.hpp), as BinanceSession feeds it. One message per line:
//   "A <json>"  an answer to an order request (placed, canceled: clientOrderId or origClientOrderId);
//   "Q <json>"  a status query's answer;
//   "U <json>"  a user data event: spot's executionReport, or futures' ORDER_TRADE_UPDATE (its "o").
// Three children are tracked first (ids 1 to 3, 1, 2 and 0.5 ETH: their Binance ids are tr-1 to tr-3).
// Whatever arrives: no child is told of more than its quantity, every fill told has a positive quantity and
// price, and after its end a child is only answered for (a status query's answer, saying it ended).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "fuzz_support.hpp"
#include "gateway/binance_orders.hpp"
#include "gateway/binance_payloads.hpp"

namespace {

[[noreturn]] void broken(const char* what, const tranche::ExecutionReport& r) {
  std::fprintf(stderr, "%s: child %llu, %s, last %s at %s, cum %s\n", what,
               static_cast<unsigned long long>(r.client_order_id.value()),
               std::string(to_string(r.exec_type)).c_str(), r.last_qty.to_string().c_str(),
               r.last_price.to_string().c_str(), r.cum_qty.to_string().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tranche;
  namespace binance = gateway::binance;
  const Config& config = fuzz::bundled_config();
  const VenueConfig* venue = config.venue(VenueId("binance-spot"));
  if (venue == nullptr || venue->listings.empty()) std::abort();
  binance::OrderTracker tracker(*venue, "tr");
  std::map<std::uint64_t, Qty> quantity, told;
  std::set<std::uint64_t> ended;
  const char* sizes[] = {"1", "2", "0.5"};
  for (std::uint64_t id = 1; id <= 3; ++id) {
    NewOrder o;
    o.client_order_id = ClientOrderId(id);
    o.venue = venue->id;
    o.instrument = venue->listings.front().instrument;
    o.side = id == 2 ? Side::Sell : Side::Buy;
    o.price = Price::parse("2600").value();
    o.qty = Qty::parse(sizes[id - 1]).value();
    quantity[id] = o.qty;
    (void)tracker.on_new(o);
  }
  // TRANCHE_FUZZ_VERBOSE=1: every report told, to read what an input does.
  static const bool verbose = std::getenv("TRANCHE_FUZZ_VERBOSE") != nullptr;
  simdjson::dom::parser parser;
  std::vector<ExecutionReport> out;
  for (std::string_view line : fuzz::lines_of(fuzz::as_text(data, size))) {
    if (line.size() < 2 || line[1] != ' ') continue;
    const char kind = line[0];
    line.remove_prefix(2);
    simdjson::dom::element e;
    if (parser.parse(line.data(), line.size()).get(e) != simdjson::SUCCESS) continue;
    std::string why;
    out.clear();
    if (kind == 'A' || kind == 'Q') {
      auto facts = binance::read_order_facts(
          e,
          kind == 'A' && e["origClientOrderId"].error() == simdjson::SUCCESS ? "origClientOrderId"
                                                                             : "clientOrderId",
          why);
      if (!facts) continue;
      (void)(kind == 'A' ? tracker.apply(*facts, out) : tracker.status(*facts, out));
    } else if (kind == 'U') {
      simdjson::dom::element o;
      const bool futures = e.is_object() && e["o"].get(o) == simdjson::SUCCESS;
      auto update = binance::read_order_update(futures ? o : e, e, why);
      if (!update) continue;
      if (update->type == ExecType::Replaced && futures) (void)tracker.modified(update->facts, out);
      (void)tracker.apply(update->facts, out);
    }
    for (const ExecutionReport& r : out) {
      const std::uint64_t id = r.client_order_id.value();
      if (verbose)
        std::fprintf(stderr, "%c -> child %llu %s %s cum %s\n", kind, static_cast<unsigned long long>(id),
                     std::string(to_string(r.exec_type)).c_str(), std::string(to_string(r.status)).c_str(),
                     r.cum_qty.to_string().c_str());
      if (!quantity.count(id)) broken("a report for a child never sent", r);
      // After its end a child is only answered for (a status query's answer), and as ended.
      const bool terminal = r.status == OrderStatus::Filled || r.status == OrderStatus::Canceled ||
                            r.status == OrderStatus::Rejected || r.status == OrderStatus::Expired;
      if (ended.count(id) && (r.exec_type != ExecType::OrderStatus || !terminal))
        broken("a report after the child's end", r);
      if (r.exec_type == ExecType::Trade) {
        if (!r.last_qty.is_positive() || !r.last_price.is_positive())
          broken("a fill without quantity or price", r);
        told[id] += r.last_qty;
        if (told[id] > quantity[id]) broken("a child told of more than its quantity", r);
      }
      if (terminal) ended.insert(id);
    }
  }
  return 0;
}
