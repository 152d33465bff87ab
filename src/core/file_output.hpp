#pragma once
// Writing a whole file (a report, a scorecard) so a reader sees the old one or the new one, never half of
// either: written beside it, flushed, then renamed over it. Errors say what the system said.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tranche {

// `what` names the file in errors ("the report"): "cannot write the report PATH: Is a directory".
Status write_file_replacing(const std::string& path, std::string_view content, std::string_view what);

}  // namespace tranche
