// Property: no sequence of venue events, faults included (reordered, duplicated and dropped reports, fills
// after a cancel, acks after fills, rejected amends), breaks an OMS invariant, and the OMS ends up with
// exactly the executions the venue made and reported.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "oms/oms.hpp"
#include "oms/oms_test_support.hpp"

namespace tranche::oms {
namespace {

using testing::Feeder;

// What the venue really did with each child.
struct VenueOrder {
  NewOrder order;
  Qty cum;
  bool arrived = false;
  bool done = false;
};

std::string describe(const RecordBody& body) {
  std::string out = to_string(record_type(body));
  if (auto* o = std::get_if<NewOrder>(&body))
    out += " child " + std::to_string(o->client_order_id.value()) + " " + o->venue.str() + " " +
           o->qty.to_string() + " @ " + o->price.to_string();
  if (auto* c = std::get_if<CancelOrder>(&body))
    out += " child " + std::to_string(c->client_order_id.value());
  if (auto* a = std::get_if<AmendOrder>(&body))
    out += " child " + std::to_string(a->client_order_id.value()) + " to " + a->new_price.to_string();
  if (auto* r = std::get_if<ExecutionReport>(&body)) {
    out +=
        " child " + std::to_string(r->client_order_id.value()) + " " + std::string(to_string(r->exec_type));
    if (r->exec_type == ExecType::Trade) out += " " + r->last_qty.to_string() + " " + r->exec_id.str();
    if (r->exec_type == ExecType::Replaced) out += " to " + r->order_price.to_string();
  }
  return out;
}

RC_GTEST_PROP(OmsProperty, NoSequenceOfVenueEventsBreaksAnInvariant, ()) {
  Oms oms(testing::two_venue_config());
  std::string breach;
  oms.set_invariant_handler([&](const std::string& context) { breach = context; });
  Feeder feeder(oms);
  const int parent_units = *rc::gen::inRange(1, 40);
  const ParentId parent = feeder.parent(std::to_string(parent_units).c_str());
  std::map<std::uint64_t, VenueOrder> venue;
  std::vector<RecordBody> requests;      // on their way to the venue
  std::vector<ExecutionReport> reports;  // on their way back
  std::vector<ExecutionReport> delivered_fills;
  std::map<std::string, Qty> true_fills;  // exec id -> qty, what the venue executed
  std::string log;                        // what was fed, printed with a failure
  auto feed = [&](RecordBody body) {
    log += describe(body) + "\n";
    const Status s = feeder.feed(std::move(body));
    if (!s.ok()) RC_FAIL(s.message() + "\n" + log);
    if (!breach.empty()) RC_FAIL(breach + "\n" + log);
    const Status v = oms.verify();
    if (!v.ok()) RC_FAIL(v.message());
  };
  const int steps = *rc::gen::inRange(30, 250);
  std::uint64_t exec_counter = 0;
  // Every venue report carries the order's executed quantity at the venue, as FIX's CumQty does.
  auto venue_report = [&](const VenueOrder& v, ExecType type) {
    ExecutionReport r = feeder.report(v.order, type);
    r.cum_qty = v.cum;
    return r;
  };
  for (int step = 0; step < steps; ++step) {
    const int action = *rc::gen::inRange(0, 10);
    if (action == 0) {  // a new child, if the parent has room
      const bool inverse = *rc::gen::arbitrary<bool>();
      NewOrder o =
          inverse ? feeder.child(parent, std::to_string(*rc::gen::inRange(1, 30)).c_str(), "250", "coinm")
                  : feeder.child(parent, std::to_string(*rc::gen::inRange(1, 6)).c_str(), "100", "spot");
      if (!oms.can_send(o).ok()) continue;
      feed(o);
      venue[o.client_order_id.value()] = {o, Qty{}, false, false};
      requests.push_back(o);
    } else if (action == 1 && !requests.empty()) {  // a request reaches the venue
      const auto i = static_cast<std::size_t>(*rc::gen::inRange<std::size_t>(0, requests.size()));
      RecordBody req = requests[i];
      requests.erase(requests.begin() + static_cast<std::ptrdiff_t>(i));
      if (auto* o = std::get_if<NewOrder>(&req)) {
        VenueOrder& v = venue[o->client_order_id.value()];
        v.arrived = true;
        if (*rc::gen::inRange(0, 10) == 0) {
          v.done = true;
          reports.push_back(venue_report(v, ExecType::Rejected));
        } else {
          reports.push_back(venue_report(v, ExecType::New));
        }
      } else if (auto* c = std::get_if<CancelOrder>(&req)) {
        VenueOrder& v = venue[c->client_order_id.value()];
        if (v.arrived && !v.done) {
          v.done = true;
          reports.push_back(venue_report(v, ExecType::Canceled));
        } else {
          reports.push_back(venue_report(v, ExecType::CancelRejected));
        }
      } else if (auto* a = std::get_if<AmendOrder>(&req)) {
        VenueOrder& v = venue[a->client_order_id.value()];
        if (v.arrived && !v.done && *rc::gen::arbitrary<bool>()) {
          ExecutionReport r = venue_report(v, ExecType::Replaced);
          v.order.price = a->new_price;
          r.order_price = a->new_price;
          reports.push_back(r);
        } else {
          reports.push_back(venue_report(v, ExecType::ReplaceRejected));
        }
      }
    } else if (action == 2 || action == 3) {  // the venue fills an open order
      std::vector<VenueOrder*> open;
      for (auto& [_, v] : venue)
        if (v.arrived && !v.done) open.push_back(&v);
      if (open.empty()) continue;
      VenueOrder& v = *open[*rc::gen::inRange<std::size_t>(0, open.size())];
      const Qty leaves = v.order.qty - v.cum;
      const std::int64_t units = leaves.raw() / kFixedScale;
      const Qty fill =
          (units <= 1 || action == 3) ? leaves : Qty::from_units(*rc::gen::inRange<std::int64_t>(1, units));
      v.cum += fill;
      if (v.cum == v.order.qty) v.done = true;
      ExecutionReport r = feeder.report(v.order, ExecType::Trade, "1");
      r.last_qty = fill;
      r.last_price = v.order.price;
      r.exec_id = ExecId("venue-" + std::to_string(++exec_counter));
      r.cum_qty = v.cum;
      true_fills[r.exec_id.str()] = fill;
      reports.push_back(r);
    } else if (action == 4) {  // we cancel an open child
      for (const ChildOrder* c : oms.open_children()) {
        if (c->status == OrderStatus::PendingCancel) continue;
        CancelOrder cancel{c->order.client_order_id, c->order.venue, c->order.instrument, 0};
        feed(cancel);
        requests.push_back(cancel);
        break;
      }
    } else if (action == 5) {  // we amend the price of an open child
      for (const ChildOrder* c : oms.open_children()) {
        if (c->status != OrderStatus::New && c->status != OrderStatus::PartiallyFilled) continue;
        // A higher price counts an inverse child for less, so it never grows what is in flight.
        AmendOrder amend{c->order.client_order_id,         c->order.venue, c->order.instrument,
                         c->order.price + testing::p("1"), Qty::unset(),   0};
        feed(amend);
        requests.push_back(amend);
        break;
      }
    } else if ((action == 6 || action == 7) && !reports.empty()) {  // a report arrives, in any order
      const auto i = *rc::gen::inRange<std::size_t>(0, reports.size());
      const ExecutionReport r = reports[i];
      reports.erase(reports.begin() + static_cast<std::ptrdiff_t>(i));
      if (r.exec_type == ExecType::Trade) delivered_fills.push_back(r);
      feed(r);
    } else if (action == 8 && !delivered_fills.empty()) {  // a fill arrives twice
      feed(delivered_fills[*rc::gen::inRange<std::size_t>(0, delivered_fills.size())]);
    } else if (action == 9 && !reports.empty()) {  // an ack is lost
      const auto i = *rc::gen::inRange<std::size_t>(0, reports.size());
      if (reports[i].exec_type == ExecType::New)
        reports.erase(reports.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  // Everything still on its way arrives.
  for (const auto& r : reports) {
    if (r.exec_type == ExecType::Trade) delivered_fills.push_back(r);
    feed(r);
  }
  Qty venue_total;
  for (const auto& [id, qty] : true_fills) venue_total += qty;
  Qty oms_total;
  for (const auto& [_, c] : oms.children()) oms_total += c.cum_qty;
  RC_TAG(oms.fills().size() > 5 ? "many fills" : "few fills");
  RC_TAG(oms.oddities().empty() ? "no oddities" : "oddities");
  RC_ASSERT(oms_total == venue_total);
  RC_ASSERT(oms.parent(parent)->executed <= oms.parent(parent)->order.qty);
}

}  // namespace
}  // namespace tranche::oms
