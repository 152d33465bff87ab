#pragma once
// Reading Binance's JSON with simdjson's on-demand API: the pieces the recording reader
// (md/binance_reader.cpp) and the live venue's book sync (gateway/binance_depth.cpp) share. Binance sends
// every price and quantity as a JSON string of plain decimal digits; each is read straight from the text
// into a fixed-point value, never through double, and without copying.
#include <simdjson.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "md/event.hpp"

namespace tranche::md::binance_json {

namespace od = simdjson::ondemand;

// A decimal string ("2683.81000000") into a Price, Qty or Amount; false when it is not a string or not a
// plain decimal of at most 8 places.
template <class T>
inline bool read_decimal(od::value value, T& out) {
  std::string_view text;
  if (value.get_string().get(text)) return false;
  return T::parse(text, out);
}

// An unsigned JSON number (update and trade ids).
inline bool read_u64(od::value value, std::uint64_t& out) {
  return !value.get_uint64().get(out);
}

// Why a read failed: the document's shape, or a number in it.
enum class ReadError : std::uint8_t { None, Malformed, BadNumber };

// `[[price, qty], ...]` into `out` (cleared first). Every price must be a positive decimal string and every
// quantity a decimal string of zero or more (zero deletes a level in a diff); each pair has exactly two
// elements. On failure `out` holds the levels read before the bad one.
inline ReadError read_levels_checked(od::value value, std::vector<Level>& out) {
  out.clear();
  od::array levels;
  if (value.get_array().get(levels)) return ReadError::Malformed;
  for (auto entry : levels) {
    od::array pair;
    if (entry.get_array().get(pair)) return ReadError::Malformed;
    Level level;
    int index = 0;
    for (auto element : pair) {
      od::value v;
      if (element.get(v)) return ReadError::Malformed;
      std::string_view text;
      if (index < 2) {
        const auto error = v.get_string().get(text);
        if (error) return error == simdjson::INCORRECT_TYPE ? ReadError::BadNumber : ReadError::Malformed;
        if (index == 0 ? !Price::parse(text, level.price) : !Qty::parse(text, level.qty))
          return ReadError::BadNumber;
      }
      ++index;
    }
    if (index != 2) return ReadError::Malformed;
    if (level.qty.is_negative() || !level.price.is_positive()) return ReadError::BadNumber;
    out.push_back(level);
  }
  return ReadError::None;
}

inline bool read_levels(od::value value, std::vector<Level>& out) {
  return read_levels_checked(value, out) == ReadError::None;
}

}  // namespace tranche::md::binance_json
