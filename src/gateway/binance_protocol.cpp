#include "gateway/binance_protocol.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tranche::gateway::binance {

namespace {
constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}
}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  std::string hex(static_cast<std::size_t>(length) * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

struct Signer::Mac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  bool keyed = false;
};

Signer::Signer(std::string_view secret) : mac_(new Mac) {
  mac_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_->mac != nullptr) mac_->ctx = EVP_MAC_CTX_new(mac_->mac);
  if (mac_->ctx == nullptr) return;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  mac_->keyed = EVP_MAC_init(mac_->ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                             params) == 1;
}

Signer::~Signer() {
  EVP_MAC_CTX_free(mac_->ctx);
  EVP_MAC_free(mac_->mac);
  delete mac_;
}

bool Signer::sign(std::string_view payload, std::string& out) {
  // A null key re-initialises with the key already set: no allocation, no re-keying.
  if (!mac_->keyed || EVP_MAC_init(mac_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(mac_->ctx, reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1)
    return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  if (EVP_MAC_final(mac_->ctx, digest, &length, sizeof digest) != 1) return false;
  const std::size_t at = out.size();
  out.resize(at + length * 2);
  for (std::size_t i = 0; i < length; ++i) {
    out[at + 2 * i] = kHex[digest[i] >> 4];
    out[at + 2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return true;
}

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (unreserved(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHexUpper[byte >> 4];
    out += kHexUpper[byte & 0xf];
  }
  return out;
}

bool url_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return false;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

std::string query_string(const Params& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(key);
    out += '=';
    out += url_encode(value);
  }
  return out;
}

std::optional<Params> parse_query(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    std::string key;
    std::string value;
    if (!url_decode(pair.substr(0, eq), key) || !url_decode(pair.substr(eq + 1), value)) return std::nullopt;
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

std::string ws_api_payload(Params params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, value] : params) {
    if (key == "signature") continue;
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

std::string stream_symbol(std::string_view symbol) {
  std::string out(symbol);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view side_name(Side side) {
  return side == Side::Buy ? "BUY" : "SELL";
}

std::optional<Side> parse_side(std::string_view text) {
  if (text == "BUY") return Side::Buy;
  if (text == "SELL") return Side::Sell;
  return std::nullopt;
}

std::string_view order_type_name(OrderType type, TimeInForce tif) {
  if (type == OrderType::Market) return "MARKET";
  return tif == TimeInForce::PostOnly ? "LIMIT_MAKER" : "LIMIT";
}

std::string_view time_in_force_name(OrderType type, TimeInForce tif) {
  if (type == OrderType::Market) return "";
  switch (tif) {
    case TimeInForce::GoodTillCancel:
      return "GTC";
    case TimeInForce::ImmediateOrCancel:
      return "IOC";
    case TimeInForce::FillOrKill:
      return "FOK";
    case TimeInForce::PostOnly:
      return "";
  }
  return "";
}

std::optional<OrderKind> parse_order_kind(std::string_view type, std::string_view time_in_force) {
  if (type == "MARKET") return OrderKind{OrderType::Market, TimeInForce::ImmediateOrCancel};
  if (type == "LIMIT_MAKER") return OrderKind{OrderType::Limit, TimeInForce::PostOnly};
  if (type != "LIMIT") return std::nullopt;
  if (time_in_force == "GTC") return OrderKind{OrderType::Limit, TimeInForce::GoodTillCancel};
  if (time_in_force == "IOC") return OrderKind{OrderType::Limit, TimeInForce::ImmediateOrCancel};
  if (time_in_force == "FOK") return OrderKind{OrderType::Limit, TimeInForce::FillOrKill};
  return std::nullopt;
}

std::string_view order_status_name(OrderStatus status) {
  switch (status) {
    case OrderStatus::PendingNew:
      return "PENDING_NEW";
    case OrderStatus::New:
    case OrderStatus::PendingReplace:
    case OrderStatus::Replaced:
      return "NEW";
    case OrderStatus::PartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::Filled:
      return "FILLED";
    case OrderStatus::PendingCancel:
      return "PENDING_CANCEL";
    case OrderStatus::Canceled:
      return "CANCELED";
    case OrderStatus::Rejected:
      return "REJECTED";
    case OrderStatus::Expired:
      return "EXPIRED";
  }
  return "NEW";
}

std::optional<OrderStatus> parse_order_status(std::string_view text) {
  if (text == "NEW") return OrderStatus::New;
  if (text == "PENDING_NEW") return OrderStatus::PendingNew;
  if (text == "PARTIALLY_FILLED") return OrderStatus::PartiallyFilled;
  if (text == "FILLED") return OrderStatus::Filled;
  if (text == "CANCELED") return OrderStatus::Canceled;
  if (text == "PENDING_CANCEL") return OrderStatus::PendingCancel;
  if (text == "REJECTED") return OrderStatus::Rejected;
  if (text == "EXPIRED" || text == "EXPIRED_IN_MATCH") return OrderStatus::Expired;
  return std::nullopt;
}

std::string_view futures_order_type_name(OrderType type) {
  return type == OrderType::Market ? "MARKET" : "LIMIT";
}
std::string_view futures_time_in_force_name(OrderType type, TimeInForce tif) {
  if (type == OrderType::Market) return "";
  return tif == TimeInForce::PostOnly ? "GTX" : time_in_force_name(type, tif);
}
std::optional<OrderKind> parse_futures_order_kind(std::string_view type, std::string_view time_in_force) {
  if (type == "MARKET") return OrderKind{OrderType::Market, TimeInForce::ImmediateOrCancel};
  if (type != "LIMIT") return std::nullopt;
  if (time_in_force == "GTX") return OrderKind{OrderType::Limit, TimeInForce::PostOnly};
  return parse_order_kind(type, time_in_force);
}
std::optional<ExecType> parse_execution_type(std::string_view text) {
  if (text == "NEW") return ExecType::New;
  if (text == "TRADE") return ExecType::Trade;
  if (text == "CANCELED") return ExecType::Canceled;
  // Spot's cancel-replace says REPLACED; futures' modify in place says AMENDMENT.
  if (text == "REPLACED" || text == "AMENDMENT") return ExecType::Replaced;
  if (text == "REJECTED") return ExecType::Rejected;
  if (text == "EXPIRED" || text == "TRADE_PREVENTION") return ExecType::Expired;
  return std::nullopt;
}

std::string_view execution_type_name(ExecType type) {
  switch (type) {
    case ExecType::New:
      return "NEW";
    case ExecType::Trade:
      return "TRADE";
    case ExecType::Canceled:
      return "CANCELED";
    case ExecType::Replaced:
      return "REPLACED";
    case ExecType::Rejected:
      return "REJECTED";
    case ExecType::Expired:
      return "EXPIRED";
    default:
      return "NEW";
  }
}

RejectReason reject_reason(int code, std::string_view message) {
  switch (code) {
    case kTooManyRequests:
    case kTooManyOrders:
      return RejectReason::RateLimited;
    case kDisconnected:
    case kServerBusy:
      return RejectReason::VenueClosed;
    case kNoSuchOrder:
    case kCancelRejected:
    case kOrderArchived:
      return RejectReason::UnknownOrder;
    case kFilterFailure:
      if (contains(message, "PRICE_FILTER") || contains(message, "PERCENT_PRICE"))
        return RejectReason::PriceOffTick;
      if (contains(message, "LOT_SIZE") || contains(message, "MARKET_LOT_SIZE"))
        return RejectReason::QtyOffLot;
      if (contains(message, "NOTIONAL")) return RejectReason::BelowMinNotional;
      if (contains(message, "MAX_NUM_ORDERS")) return RejectReason::RateLimited;
      return RejectReason::InvalidOrder;
    case kNewOrderRejected:
      if (contains(message, "immediately match")) return RejectReason::PostOnlyWouldCross;
      if (contains(message, "insufficient balance")) return RejectReason::InsufficientBalance;
      if (contains(message, "not currently open") || contains(message, "suspended") ||
          contains(message, "Market is closed"))
        return RejectReason::VenueClosed;
      return RejectReason::Other;
    case kBadPrecision:
      return RejectReason::QtyOffLot;
    case kIllegalChars:
    case kTooManyParameters:
    case kMandatoryParamEmptyOrMalformed:
    case kUnknownParam:
    case kInvalidTimeInForce:
    case kInvalidOrderType:
    case kInvalidSide:
    case kBadSymbol:
    case kInvalidParameter:
      return RejectReason::InvalidOrder;
    default:
      return RejectReason::Other;
  }
}

RejectReason futures_reject_reason(int code, std::string_view message) {
  switch (code) {
    case kFuturesMarginInsufficient:
      return RejectReason::InsufficientBalance;
    case kFuturesPostOnlyRejected:
      return RejectReason::PostOnlyWouldCross;
    case kFuturesPriceOffTick:
      return RejectReason::PriceOffTick;
    case kFuturesQtyOffStep:
      return RejectReason::QtyOffLot;
    case kFuturesMinNotional:
      return RejectReason::BelowMinNotional;
    case kFuturesReduceOnlyRejected:
    case kFuturesNoNeedToModify:
    case -4000:  // a modify's quantity not above what is executed
    case -4001:  // price less than 0
    case -4002:  // price greater than max price
    case -4003:  // quantity less than or equal to 0
    case -4005:  // quantity greater than max quantity
    case -4116:  // a clientOrderId the venue already has
    case -4061:  // positionSide does not match the account's mode
      return RejectReason::InvalidOrder;
    default:
      return reject_reason(code, message);
  }
}

bool outcome_unknown(int code, int http_status) {
  return code == kTimeout || code == kUnexpectedResponse || code == kDisconnected || http_status >= 500;
}

bool valid_client_order_id(std::string_view id) {
  if (id.empty() || id.size() > 36) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == ':' || c == '/' || c == '_' || c == '-';
  });
}

std::optional<std::string> client_order_id(std::string_view prefix, const ClientOrderId& child,
                                           int replace_count) {
  if (replace_count < 0) return std::nullopt;
  std::string id(prefix);
  id += '-';
  id += std::to_string(child.value());
  if (replace_count > 0) {
    id += "-r";
    id += std::to_string(replace_count);
  }
  if (!valid_client_order_id(id)) return std::nullopt;
  return id;
}

std::optional<ParsedClientOrderId> parse_client_order_id(std::string_view prefix, std::string_view id) {
  if (id.size() <= prefix.size() + 1 || id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '-')
    return std::nullopt;
  std::string_view rest = id.substr(prefix.size() + 1);
  std::uint64_t child = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), child);
  if (ec != std::errc{} || end == rest.data()) return std::nullopt;
  rest = rest.substr(static_cast<std::size_t>(end - rest.data()));
  ParsedClientOrderId parsed{ClientOrderId(child), 0};
  if (rest.empty()) return parsed;
  if (rest.size() < 3 || rest.substr(0, 2) != "-r") return std::nullopt;
  rest = rest.substr(2);
  const auto [end2, ec2] = std::from_chars(rest.data(), rest.data() + rest.size(), parsed.replace_count);
  if (ec2 != std::errc{} || end2 != rest.data() + rest.size() || parsed.replace_count <= 0)
    return std::nullopt;
  return parsed;
}

}  // namespace tranche::gateway::binance
