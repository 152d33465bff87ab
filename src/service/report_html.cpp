#include "service/report_html.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/file_output.hpp"
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
                              const std::vector<std::pair<TimestampNs, double>>& filled,
                              const std::vector<std::pair<TimestampNs, double>>& schedule) {
  nlohmann::ordered_json data;
  data["run"] = run;
  data["mids"] = mids;
  data["filled"] = filled;
  data["schedule"] = schedule;  // the algo's own: base it wanted executed by then
  std::string json = data.dump();
  // Inside a <script> element "</" must not appear.
  for (std::size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 2))
    json.replace(at, 2, "<\\/");
  std::string html = template_html;
  replace_once(html, "/*UPLOT_CSS*/", uplot_css);
  replace_once(html, "/*UPLOT_JS*/", uplot_js);
  replace_once(html, "/*DATA*/", json);
  return write_file_replacing(path, html, "the report");
}

}  // namespace tranche::service
