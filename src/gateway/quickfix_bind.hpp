#pragma once
// QuickFIX 1.15.1's acceptors listen on every interface: its settings have no address to bind to. A server
// that says it listens on 127.0.0.1 must not answer on the others, so the address is set here before an
// acceptor starts, and QuickFIX's own socket_createAcceptor (which it calls through the PLT) is replaced by
// one that binds to it (quickfix_bind.cpp).
#include <string>

namespace tranche::gateway {

// "127.0.0.1", "0.0.0.0" (every interface) or another IPv4 address; the acceptors started after this bind
// there. Returns false when it is not an IPv4 address.
bool set_fix_acceptor_address(const std::string& ipv4);

}  // namespace tranche::gateway
