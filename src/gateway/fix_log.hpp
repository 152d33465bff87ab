#pragma once
// QuickFIX's message log, without secrets: a Logon's Password (554), NewPassword (925) and RawData (96, where
// venues put a signature) are masked before a line is written, and the log files are readable by their owner
// only. Every FIX session of Tranche (the parent acceptor, the venue sessions) logs through this.
#include <memory>
#include <string>
#include <string_view>

#include "gateway/quickfix.hpp"

namespace tranche::gateway {

// `message` with the value of every secret field replaced by "***" (the checksum no longer matches: it is a
// log line, never resent).
std::string mask_fix_secrets(std::string_view message);

// A LogFactory writing QuickFIX's file logs under `dir` (created owner-only) with secrets masked.
std::unique_ptr<FIX::LogFactory> make_masked_file_log_factory(const std::string& dir);

// Makes `dir` (created if missing) and everything already in it, at any depth, accessible to the owner only.
void restrict_to_owner(const std::string& dir);

}  // namespace tranche::gateway
