#include "gateway/fix_log.hpp"

#include <array>
#include <filesystem>

namespace tranche::gateway {
namespace {

constexpr std::array<std::string_view, 3> kSecretTags = {"554", "925", "96"};
constexpr char kSoh = '\x01';

// QuickFIX's FileLog, each line masked first. The files are made owner-only once they exist.
class MaskedLog final : public FIX::Log {
 public:
  MaskedLog(std::unique_ptr<FIX::Log> inner, std::string dir)
      : inner_(std::move(inner)), dir_(std::move(dir)) {
    restrict_to_owner(dir_);
  }
  void clear() override { inner_->clear(); }
  void backup() override {
    inner_->backup();
    restrict_to_owner(dir_);
  }
  void onIncoming(const std::string& message) override { inner_->onIncoming(mask_fix_secrets(message)); }
  void onOutgoing(const std::string& message) override { inner_->onOutgoing(mask_fix_secrets(message)); }
  void onEvent(const std::string& text) override { inner_->onEvent(mask_fix_secrets(text)); }

 private:
  std::unique_ptr<FIX::Log> inner_;
  std::string dir_;
};

class MaskedFileLogFactory final : public FIX::LogFactory {
 public:
  explicit MaskedFileLogFactory(std::string dir) : dir_(std::move(dir)) { restrict_to_owner(dir_); }
  FIX::Log* create() override { return new MaskedLog(std::make_unique<FIX::FileLog>(dir_), dir_); }
  FIX::Log* create(const FIX::SessionID& id) override {
    return new MaskedLog(std::make_unique<FIX::FileLog>(dir_, id), dir_);
  }
  void destroy(FIX::Log* log) override { delete log; }

 private:
  std::string dir_;
};

}  // namespace

std::string mask_fix_secrets(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  std::size_t at = 0;
  while (at < message.size()) {
    std::size_t end = message.find(kSoh, at);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view field = message.substr(at, end - at);
    const std::size_t eq = field.find('=');
    bool secret = false;
    if (eq != std::string_view::npos)
      for (std::string_view tag : kSecretTags) secret = secret || field.substr(0, eq) == tag;
    if (secret) {
      out.append(field.substr(0, eq + 1)).append("***");
    } else {
      out.append(field);
    }
    if (end < message.size()) out.push_back(kSoh);
    at = end + 1;
  }
  return out;
}

std::unique_ptr<FIX::LogFactory> make_masked_file_log_factory(const std::string& dir) {
  return std::make_unique<MaskedFileLogFactory>(dir);
}

void restrict_to_owner(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code ignored;
    if (it->is_directory(ignored))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::replace, ignored);
    else if (it->is_regular_file(ignored))
      fs::permissions(it->path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                      ignored);
  }
}

}  // namespace tranche::gateway
