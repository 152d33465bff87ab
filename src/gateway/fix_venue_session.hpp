#pragma once
// The gateway to a FIX 4.4 venue: child orders out as NewOrderSingle, OrderCancelRequest,
// OrderCancelReplaceRequest and OrderStatusRequest; ExecutionReports and OrderCancelRejects back as the
// core's ExecutionReports. Sequence numbers, heartbeats, resends and reconnects are QuickFIX's (an initiator
// on its own thread). What the venue says is queued there and handed to the EMS by poll(), on the EMS's
// thread and stamped with its clock, so the EMS never sees another thread (docs/fix.md, the gateway
// conformance matrix in docs/gateways.md).
//
// Our ClOrdIDs: the child's client order id ("17") for the order, "17.c1" for a cancel, "17.r2" for a
// replace; a report's ClOrdID up to the first '.' names the child.
#include <cstdint>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/order.hpp"
#include "core/result.hpp"

namespace tranche::gateway {

struct FixVenueOptions {
  std::string dictionary;  // QuickFIX-format FIX 4.4 data dictionary
  std::string store_dir;   // sequence numbers and the message log
};

class FixVenueSession final : public VenueSession {
 public:
  // Starts connecting (and reconnecting) to `venue.fix`; requests before the logon are refused with a report.
  static Result<std::unique_ptr<FixVenueSession>> start(const VenueConfig& venue, const Config& config,
                                                        const FixVenueOptions& options);
  ~FixVenueSession() override;
  FixVenueSession(const FixVenueSession&) = delete;
  FixVenueSession& operator=(const FixVenueSession&) = delete;

  VenueId venue() const override;
  // False (and a reject report at the next poll) when the session is not logged on.
  bool send(const NewOrder& order) override;
  bool cancel(const CancelOrder& cancel) override;
  bool amend(const AmendOrder& amend) override;
  bool query(const OrderStatusQuery& query) override;

  // Hands what the venue said since the last call to `listener`, each stamped received at `now_ns`: execution
  // reports, and the session's state (Open at each logon, Disconnected when it drops). Returns how many.
  std::size_t poll(ExecutionListener& listener, TimestampNs now_ns);
  bool logged_on() const;
  // Messages from the venue that could not be read as a report, each with the reason (nothing is dropped
  // silently: they are counted and kept here, the last 100).
  std::uint64_t unreadable() const;
  std::string last_unreadable() const;
  void stop();

 private:
  struct Impl;
  explicit FixVenueSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tranche::gateway
