#include "gateway/quickfix_bind.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace tranche::gateway {
namespace {
std::atomic<std::uint32_t> bind_address{htonl(INADDR_LOOPBACK)};
}

bool set_fix_acceptor_address(const std::string& ipv4) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, ipv4.c_str(), &parsed) != 1) return false;
  bind_address.store(parsed.s_addr);
  return true;
}

}  // namespace tranche::gateway

// Interposes QuickFIX's definition (same signature, utility.h): the listening socket of every acceptor.
namespace FIX {
int socket_createAcceptor(int port, bool reuse) {
  const int fd = ::socket(PF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0) return -1;
  if (reuse) {
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = tranche::gateway::bind_address.load();
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}
}  // namespace FIX
