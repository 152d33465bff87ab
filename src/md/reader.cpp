#include "md/reader.hpp"

#include "md/binance_reader.hpp"
#include "md/binary_format.hpp"
#include "md/line_reader.hpp"
#include "md/lobster_reader.hpp"
#include "md/mbo_reader.hpp"
#include "md/tardis_reader.hpp"

namespace tranche::md {

namespace {

enum class Format { Unknown, Binance, Binary, Tardis, Lobster, Mbo };

Result<Format> detect(const std::string& path) {
  if (is_binary_event_file(path)) return Format::Binary;
  LineReader lines;
  if (Status s = lines.open(path); !s.ok()) return make_error(s.message());
  std::string_view first;
  if (!lines.next(first)) {
    if (!lines.error().empty()) return make_error(lines.error());
    return make_error(path + ": empty file");
  }
  if (looks_like_binance(first)) return Format::Binance;
  if (looks_like_tardis(first)) return Format::Tardis;
  if (first.starts_with("Time,Type,OrderId,Size,Price,Direction")) return Format::Lobster;
  if (first.find("ts_recv_ns") != std::string_view::npos &&
      first.find("order_id") != std::string_view::npos && first.find("action") != std::string_view::npos)
    return Format::Mbo;
  return Format::Unknown;
}

const char* name(Format f) {
  switch (f) {
    case Format::Binance:
      return "Binance recording";
    case Format::Binary:
      return "Tranche binary events";
    case Format::Tardis:
      return "Tardis CSV";
    case Format::Lobster:
      return "LOBSTER messages";
    case Format::Mbo:
      return "MBO CSV";
    case Format::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace

Result<std::unique_ptr<EventReader>> open_reader(const std::vector<std::string>& files) {
  if (files.empty()) return make_error("no input files");
  Format format = Format::Unknown;
  for (const auto& path : files) {
    auto detected = detect(path);
    if (!detected.ok()) return detected.error();
    if (*detected == Format::Unknown)
      return make_error(path +
                        ": unrecognised format (expected a Binance recording, Tardis CSV, LOBSTER messages, "
                        "Databento-derived MBO CSV or a .trmd file)");
    if (format != Format::Unknown && *detected != format)
      return make_error(path + ": is a " + name(*detected) + " but " + files[0] + " is a " + name(format) +
                        "; give one format per command");
    format = *detected;
  }
  switch (format) {
    case Format::Binance:
      return make_binance_reader(files);
    case Format::Binary:
      return make_binary_reader(files);
    case Format::Tardis:
      return make_tardis_reader(files);
    case Format::Lobster:
      return make_lobster_reader(files);
    case Format::Mbo:
      return make_mbo_reader(files);
    case Format::Unknown:
      break;
  }
  return make_error("unrecognised format");
}

}  // namespace tranche::md
