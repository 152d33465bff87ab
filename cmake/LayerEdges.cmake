# The layers, lowest first, and the layers each may use. The only place these edges are written:
# the link check (Layers.cmake) and the include check (CheckLayers.cmake) both read them from here.
# Each edge is used by an include of that layer's sources (CheckLayers.cmake fails on one that is not), except
# those in TRANCHE_PENDING_<layer>: allowed ahead of their first include for work in flight, and reported by the
# check once that include lands, so they move out of the pending list.
set(TRANCHE_LAYERS core md oms risk tca ems sim gateway service)
set(TRANCHE_ALLOWED_core "")
set(TRANCHE_ALLOWED_md core)
set(TRANCHE_ALLOWED_oms core)
set(TRANCHE_ALLOWED_risk core oms)
set(TRANCHE_ALLOWED_tca core)
set(TRANCHE_ALLOWED_ems core md oms risk tca)
set(TRANCHE_ALLOWED_sim core md)
set(TRANCHE_ALLOWED_gateway core md oms sim)
set(TRANCHE_ALLOWED_service core md oms risk tca ems sim gateway)

# Issue 15: the ems kernel (parent messages, risk and TCA inside ems) and the FIX acceptor's move into gateway.
set(TRANCHE_PENDING_gateway oms)
