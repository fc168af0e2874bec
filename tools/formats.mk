# SPDX-License-Identifier: MIT
# tools/formats.mk - output formats of the memledger command; included by
# Makefile.am before tools/local.mk, which links them into the command.
MLR_FORMAT_SOURCES =
