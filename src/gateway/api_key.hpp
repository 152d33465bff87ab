#pragma once
// A venue's API key and secret. They come from environment variables or from a key file only its owner can
// read, never from the config; they are never written to a log, a journal or a report (ApiKey has no
// printer on purpose: print `key_hint()` to say which key is in use).
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tranche::gateway {

struct ApiKey {
  std::string key;
  std::string secret;
  // The key's first four characters and its length, enough to tell two keys apart in a message.
  std::string key_hint() const;
};

// A TOML file holding `api_key = "..."` and `api_secret = "..."`. Refused, with the reason, when anyone but
// its owner may read or write it (mode not 0600 or 0400), when it is not ours, or when either value is
// missing or empty.
Result<ApiKey> load_api_key_file(const std::string& path);
// The key and the secret from two environment variables; refused when either is unset or empty.
Result<ApiKey> api_key_from_env(std::string_view key_var, std::string_view secret_var);

}  // namespace tranche::gateway
