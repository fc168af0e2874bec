# SPDX-License-Identifier: MIT
# tools/local.mk - the memledger command; included by Makefile.am.
