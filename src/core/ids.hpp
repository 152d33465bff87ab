#pragma once
// A distinct type for every kind of id, so a venue order id never fits where a client order id goes.
#include <algorithm>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace tranche {

// Inline, fixed-capacity string: ids live inside orders and events without allocating.
template <std::size_t Capacity>
class FixedString {
 public:
  constexpr FixedString() = default;
  // Truncates to Capacity; fits() tells whether text would be kept whole.
  explicit FixedString(std::string_view text) {
    size_ = static_cast<std::uint8_t>(std::min(text.size(), Capacity));
    if (size_ != 0) std::memcpy(data_, text.data(), size_);  // an empty view may carry a null pointer
  }
  static constexpr bool fits(std::string_view text) { return text.size() <= Capacity; }
  static constexpr std::size_t capacity() { return Capacity; }

  std::string_view view() const { return {data_, size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  friend bool operator==(const FixedString& a, const FixedString& b) { return a.view() == b.view(); }
  friend auto operator<=>(const FixedString& a, const FixedString& b) { return a.view() <=> b.view(); }

 private:
  static_assert(Capacity < 256);
  char data_[Capacity] = {};
  std::uint8_t size_ = 0;
};

template <class Tag, class Value>
class StrongId {
 public:
  using ValueType = Value;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Value value) : value_(value) {}
  constexpr const Value& value() const { return value_; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Value value_{};
};

template <class Tag, std::size_t Capacity>
class StringId {
 public:
  constexpr StringId() = default;
  explicit StringId(std::string_view text) : text_(text) {}
  static constexpr bool fits(std::string_view text) { return FixedString<Capacity>::fits(text); }
  std::string_view view() const { return text_.view(); }
  std::string str() const { return text_.str(); }
  bool empty() const { return text_.empty(); }
  friend bool operator==(const StringId& a, const StringId& b) { return a.text_ == b.text_; }
  friend auto operator<=>(const StringId& a, const StringId& b) { return a.text_ <=> b.text_; }

 private:
  FixedString<Capacity> text_;
};

using ClientOrderId = StrongId<struct ClientOrderIdTag, std::uint64_t>;
using ParentId = StrongId<struct ParentIdTag, std::uint64_t>;
using ExecId = StringId<struct ExecIdTag, 48>;
using VenueOrderId = StringId<struct VenueOrderIdTag, 48>;
using VenueId = StringId<struct VenueIdTag, 31>;            // "binance-spot"
using InstrumentId = StringId<struct InstrumentIdTag, 31>;  // "ETH-USDT"
using AccountId = StringId<struct AccountIdTag, 31>;

}  // namespace tranche

template <class Tag, class Value>
struct std::hash<tranche::StrongId<Tag, Value>> {
  std::size_t operator()(const tranche::StrongId<Tag, Value>& id) const noexcept {
    return std::hash<Value>{}(id.value());
  }
};
template <class Tag, std::size_t Capacity>
struct std::hash<tranche::StringId<Tag, Capacity>> {
  std::size_t operator()(const tranche::StringId<Tag, Capacity>& id) const noexcept {
    return std::hash<std::string_view>{}(id.view());
  }
};
