#pragma once
// Result type for fallible calls: a value or an Error, never an exception on the hot path.
// g++ 12 has std::expected only in C++23 mode, so Tranche carries its own small one.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace tranche {

struct Error {
  std::string message;
};

namespace result_detail {
// Reading the value of an error (or the error of a value) is a bug in the caller. It stops the process in
// every build type, naming the error, rather than vanishing with NDEBUG or reading the variant's other
// alternative.
[[noreturn]] inline void stop(const char* what, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", what, message.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace result_detail

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)
      : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    require_value();
    return *std::get_if<0>(&state_);
  }
  T& value() & {
    require_value();
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    require_value();
    return std::move(*std::get_if<0>(&state_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    if (ok()) [[unlikely]] {
      result_detail::stop("Result::error() called on a value", "no error");
    }
    return *std::get_if<1>(&state_);
  }

 private:
  void require_value() const {
    if (!ok()) [[unlikely]] {
      result_detail::stop("Result::value() called on an error", std::get_if<1>(&state_)->message);
    }
  }

  std::variant<T, Error> state_;
};

// Result of a call that returns nothing but can fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error.message)), failed_(true) {}  // NOLINT(google-explicit-constructor)
  static Status success() { return {}; }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

}  // namespace tranche
