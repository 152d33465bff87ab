#pragma once
// The HTML report's template and charting library (uPlot, from npm), and the blotter, embedded at build time.
namespace tranche::service {
extern const char* const template_html;
extern const char* const uplot_js;
extern const char* const uplot_css;
// The blotter tranche serve serves (web/).
extern const char* const blotter_html;
extern const char* const blotter_js;
extern const char* const blotter_css;
}  // namespace tranche::service
