#pragma once
// Text for decision records on hot paths: numbers appended with std::to_chars (no locale, no stream state,
// no allocation beyond the string's own growth), so journaling why a decision was taken costs little.
#include <charconv>
#include <concepts>
#include <string>
#include <string_view>

namespace tranche {

class Text {
 public:
  // Doubles print with `decimals` digits after the point; a negative value prints the shortest form that
  // reads back to the same double.
  explicit Text(int decimals = 2) : decimals_(decimals) {}
  Text& decimals(int d) {
    decimals_ = d;
    return *this;
  }
  Text& operator<<(std::string_view s) {
    put(s.data(), s.size());
    return *this;
  }
  Text& operator<<(const char* s) { return *this << std::string_view(s); }
  Text& operator<<(const std::string& s) { return *this << std::string_view(s); }
  Text& operator<<(char c) {
    out_.push_back(c);
    return *this;
  }
  Text& operator<<(double v) {
    char buf[64];
    const auto r = decimals_ < 0
                       ? std::to_chars(buf, buf + sizeof buf, v)
                       : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals_);
    put(buf, static_cast<std::size_t>((r.ec == std::errc() ? r.ptr : buf) - buf));
    return *this;
  }
  template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>) Text& operator<<(T v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    put(buf, static_cast<std::size_t>(r.ptr - buf));
    return *this;
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }
  void clear() { out_.clear(); }

 private:
  // Not inlined: g++ 12 warns falsely (-Wrestrict) on std::string appends inlined into the callers.
  [[gnu::noinline]] void put(const char* p, std::size_t n) { out_.append(p, n); }
  std::string out_;
  int decimals_;
};

}  // namespace tranche
