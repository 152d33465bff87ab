#pragma once
// The gateway to a simulated venue. It has the shape of every exchange gateway: the EMS talks to it through
// the core VenueSession interface and hears back through an ExecutionListener, so the same EMS code runs
// against the simulator and against live venues. What a real gateway does on the wire (signing, REST and
// websocket sessions, the venue's symbols) the simulator needs no translation for; what is left is the
// session: which venue, and whether a request could be handed over at all.
#include <memory>
#include <vector>

#include "core/order.hpp"
#include "sim/simulator.hpp"

namespace tranche::gateway {

class SimGateway final : public VenueSession {
 public:
  SimGateway(sim::Simulator& simulator, std::size_t venue_index);

  VenueId venue() const override { return venue_id_; }
  bool send(const NewOrder& order) override;
  bool cancel(const CancelOrder& cancel) override;
  bool amend(const AmendOrder& amend) override;
  bool query(const OrderStatusQuery& query) override;

 private:
  sim::Simulator& simulator_;
  std::size_t venue_index_;
  VenueId venue_id_;
};

// One gateway per venue the simulator mounts, in its venue order.
std::vector<std::unique_ptr<SimGateway>> make_sim_gateways(sim::Simulator& simulator);

}  // namespace tranche::gateway
