#pragma once
// Splitting a CSV row without quoting (the recordings never quote) into views, with a fixed number of slots
// so the per-row path does not allocate.
#include <cstddef>
#include <span>
#include <string_view>

namespace tranche::md {

// Splits `line` at commas into `fields`; returns the field count, or fields.size() + 1 when there are more.
inline std::size_t split_csv_row(std::string_view line, std::span<std::string_view> fields) {
  std::size_t count = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    if (count == fields.size()) return fields.size() + 1;
    fields[count++] =
        line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (comma == std::string_view::npos) return count;
    start = comma + 1;
  }
}

}  // namespace tranche::md
