#pragma once
// The HTML report's template and charting library (uPlot, from npm), embedded at build time.
namespace tranche::service {
extern const char* const template_html;
extern const char* const uplot_js;
extern const char* const uplot_css;
}  // namespace tranche::service
