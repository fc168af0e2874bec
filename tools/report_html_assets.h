/* SPDX-License-Identifier: MIT */
/*
 * report_html_assets.h - the script and style sheet of the html report,
 * inlined into every page (no network access).  Edited as
 * tools/report_html.js and tools/report_html.css; the build turns them into
 * tools/report_html_assets.c (tools/formats.mk, tools/embed.awk).
 */
#ifndef MLR_REPORT_HTML_ASSETS_H
#define MLR_REPORT_HTML_ASSETS_H

extern const char mlr_html_js[];
extern const char mlr_html_css[];

#endif /* MLR_REPORT_HTML_ASSETS_H */
