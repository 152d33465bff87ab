#include "service/report_html.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "service/report_assets.hpp"

namespace tranche::service {
namespace {

void replace_once(std::string& text, const std::string& marker, const std::string& with) {
  const auto at = text.find(marker);
  if (at != std::string::npos) text.replace(at, marker.size(), with);
}

}  // namespace

Status write_execution_report(const std::string& path, const nlohmann::ordered_json& run,
                              const std::vector<std::pair<TimestampNs, double>>& mids,
                              const std::vector<std::pair<TimestampNs, double>>& filled) {
  nlohmann::ordered_json data;
  data["run"] = run;
  data["mids"] = mids;
  data["filled"] = filled;
  std::string json = data.dump();
  // Inside a <script> element "</" must not appear.
  for (std::size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 2))
    json.replace(at, 2, "<\\/");
  std::string html = template_html;
  replace_once(html, "/*UPLOT_CSS*/", uplot_css);
  replace_once(html, "/*UPLOT_JS*/", uplot_js);
  replace_once(html, "/*DATA*/", json);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot write the report " + path);
    out << html;
    if (!out.flush()) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return make_error("cannot write the report " + path);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error("cannot write the report " + path + ": " + ec.message());
  }
  return {};
}

}  // namespace tranche::service
