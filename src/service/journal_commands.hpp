#pragma once
// `tranche journal FILE (summary|orders|fills|positions|history ID|verify) [--json]`: what a journal says
// happened, read-only. The OMS state is rebuilt by replaying the journal, exactly as at start-up.
#include <cstdint>
#include <iosfwd>
#include <string>

namespace tranche::service {

using TimestampNsLike = std::int64_t;

struct JournalOptions {
  std::string file;
  std::string view = "summary";  // summary | orders | fills | positions | history | decisions | verify
  std::string config;            // the config the journal was written with (default: the bundled one)
  std::uint64_t order = 0;       // history: the client order id
  std::uint64_t parent = 0;      // orders, decisions: only this parent's
  std::string state;             // orders: only children in this state
  std::string venue;             // orders: only children on this venue
  bool json = false;
};

int journal_command(const JournalOptions& options, std::ostream& out, std::ostream& err);

// `tranche risk kill|release --journal FILE --scope global|account|venue [--target ID] --reason TEXT`:
// engages or releases the kill switch in a journal. What reads the journal next (a restart, `tranche
// journal`) finds it; engaging it also marks every open child in its scope for cancellation when that process
// starts.
struct KillSwitchOptions {
  std::string journal;
  std::string action;  // kill | release
  std::string scope = "global";
  std::string target;
  std::string reason;
  std::string config;
  TimestampNsLike at = 0;
};

int kill_switch_command(const KillSwitchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
