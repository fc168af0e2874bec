# SPDX-License-Identifier: MIT
# tools/formats.mk - output formats of the memledger command; included by
# Makefile.am before tools/local.mk, which links them into the command:
#   memledger_SOURCES += $(MLR_FORMAT_SOURCES)
#   memledger_LDADD += $(MLR_FORMAT_LIBS)
# jeprof, pprof and html are here (doc/report-formats.md); the html page's
# script and style sheet are kept as plain files and turned into C strings
# at build time (tools/embed.awk).
MLR_FORMAT_SOURCES = tools/report_jeprof.c tools/report_pprof.c \
	tools/report_html.c tools/report_html_assets.h tools/report_html_assets.c
MLR_FORMAT_LIBS = $(ZLIB_LIBS)

MLR_HTML_ASSETS = $(srcdir)/tools/report_html.js $(srcdir)/tools/report_html.css
tools/report_html_assets.c: $(MLR_HTML_ASSETS) $(srcdir)/tools/embed.awk
	$(AM_V_GEN)$(MKDIR_P) tools && { \
	  echo '/* Generated from tools/report_html.js and tools/report_html.css by tools/embed.awk. */'; \
	  echo '#include "tools/report_html_assets.h"'; \
	  $(AWK) -v name=mlr_html_js -f $(srcdir)/tools/embed.awk $(srcdir)/tools/report_html.js; \
	  $(AWK) -v name=mlr_html_css -f $(srcdir)/tools/embed.awk $(srcdir)/tools/report_html.css; \
	} >$@.tmp && mv $@.tmp $@
EXTRA_DIST += $(MLR_HTML_ASSETS) tools/embed.awk doc/report-formats.md
MAINTAINERCLEANFILES = tools/report_html_assets.c
