#pragma once
// For tests and fuzz targets: a FIX 4.4 message from its body written with '|' for SOH, framed as a session
// sends it (BeginString, BodyLength, and the CheckSum over everything before it).
#include <cstdio>
#include <string>
#include <string_view>

namespace tranche::gateway::testing {

inline std::string fix_framed(std::string_view body_with_pipes) {
  std::string body(body_with_pipes);
  for (char& c : body)
    if (c == '|') c = '\x01';
  if (!body.empty() && body.back() != '\x01') body += '\x01';
  std::string message = "8=FIX.4.4\x01";
  message += "9=" + std::to_string(body.size()) + "\x01" + body;
  unsigned sum = 0;
  for (const unsigned char c : message) sum += c;
  char trailer[16];
  std::snprintf(trailer, sizeof trailer, "10=%03u\x01", sum % 256);
  return message + trailer;
}

}  // namespace tranche::gateway::testing
