#include "gateway/api_key.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tranche::gateway {

std::string ApiKey::key_hint() const {
  return key.substr(0, 4) + "… (" + std::to_string(key.size()) + " characters)";
}

Result<ApiKey> load_api_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error("key file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error("key file " + path + " is not a regular file");
  if (st.st_uid != ::geteuid())
    return make_error("key file " + path + " belongs to another user: only its owner may hold a key");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return make_error("key file " + path + " may be read by others (mode " +
                      std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                      std::to_string(st.st_mode & 7) + "): chmod 600 it");
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    // The parser's description only: it never quotes the file's contents.
    return make_error("key file " + path + " is not TOML: " + std::string(e.description()));
  }
  ApiKey key;
  if (auto v = table["api_key"].value<std::string>()) key.key = *v;
  if (auto v = table["api_secret"].value<std::string>()) key.secret = *v;
  if (key.key.empty()) return make_error("key file " + path + " has no api_key");
  if (key.secret.empty()) return make_error("key file " + path + " has no api_secret");
  return key;
}

Result<ApiKey> api_key_from_env(std::string_view key_var, std::string_view secret_var) {
  const std::string key_name(key_var);
  const std::string secret_name(secret_var);
  const char* key = std::getenv(key_name.c_str());
  const char* secret = std::getenv(secret_name.c_str());
  if (key == nullptr || *key == '\0') return make_error("environment variable " + key_name + " is not set");
  if (secret == nullptr || *secret == '\0')
    return make_error("environment variable " + secret_name + " is not set");
  return ApiKey{key, secret};
}

}  // namespace tranche::gateway
