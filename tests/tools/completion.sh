#!/bin/bash
# SPDX-License-Identifier: MIT
# completion.sh - the bash completion (tools/memledger.bash-completion),
# sourced into this shell: COMPREPLY for subcommands, options, --format
# values (also as --format=VALUE), files and dumps; every long option of
# `memledger CMD --help` is offered; `make install` puts the script into
# bash-completion's completions directory as "memledger".
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

COMPLETION=$ML_SRCDIR/tools/memledger.bash-completion
need_file "$COMPLETION"
tap_plan 17
# shellcheck source=../../tools/memledger.bash-completion
. "$COMPLETION"
tap_eq "sourcing it registers _memledger for memledger" "complete -F _memledger memledger" \
  "$(complete -p memledger 2>&1)"

# comp WORD...: COMPREPLY for the command line WORD... (the last word is the
# one being completed; '' for a new word), sorted, on one line.
comp() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _memledger memledger "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd' '
}

tap_eq "memledger re<TAB> -> report" "report" "$(comp memledger re)"
tap_eq "memledger <TAB> -> the commands" "--help --version diff dump help report run trend" "$(comp memledger '')"
tap_eq "memledger report --for<TAB> -> --format" "--format" "$(comp memledger report --for)"
tap_eq "memledger report --format <TAB> -> every report format" \
  "folded html jeprof json junit pprof sarif text" "$(comp memledger report --format '')"
tap_eq "memledger report -f j<TAB>" "jeprof json junit" "$(comp memledger report -f j)"
tap_eq "memledger report --format=s<TAB> (bash splits at =)" "sarif" "$(comp memledger report --format = s)"
tap_eq "memledger diff --format <TAB> -> text and json only" "json text" "$(comp memledger diff --format '')"
tap_eq "memledger trend --format <TAB> -> text, json and html" "html json text" "$(comp memledger trend --format '')"
tap_eq "memledger run --sort <TAB>" "bytes count" "$(comp memledger run --sort '')"
tap_eq "memledger run --unw<TAB> and its values" "--unwind|auto eh fp libunwind none shadow" \
  "$(comp memledger run --unw)|$(comp memledger run --unwind '')"

d=$(fresh_dir completion)
mkdir "$d/sub" && touch "$d/a.dump" "$d/b.dump.gz" "$d/notes.txt" "$d/a.supp"
cd "$d" || bail "cannot cd to $d"
tap_eq "memledger report <TAB> -> dumps and directories, not other files" \
  "a.dump b.dump.gz sub" "$(comp memledger report '')"
tap_eq "memledger report -S <TAB> -> any file" "a.dump a.supp b.dump.gz notes.txt sub" \
  "$(comp memledger report -S '')"
tap_eq "memledger run -- ./no<TAB> / run -f json prog <TAB>: the program's own words" \
  "./notes.txt|a.dump a.supp b.dump.gz notes.txt sub" \
  "$(comp memledger run -- ./no)|$(comp memledger run -f json prog '')"
tap_eq "memledger dump <TAB> offers this shell's pid" 1 \
  "$(comp memledger dump '' | tr ' ' '\n' | grep -cx "$$")"

# Every long option of --help is offered (the lists cannot drift apart).
missing=
for cmd in report diff trend run dump; do
  offered=" $(comp memledger $cmd --) "
  for opt in $("$ML" $cmd --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    [[ $offered == *" $opt "* ]] || missing="$missing $cmd:$opt"
  done
done
tap_eq "every long option of 'memledger CMD --help' is completed" "" "$missing"

# make install: into the completions directory, named after the command.
inst=$T_TMP/inst
if grep -q '^install-bashcompletionDATA:' "$ML_BUILDDIR/Makefile"; then
  make -s -C "$ML_BUILDDIR" install-bashcompletionDATA DESTDIR="$inst" >"$T_TMP/inst.log" 2>&1
  f=$(find "$inst" -path '*/bash-completion/completions/memledger' -type f)
  if [ -n "$f" ] && cmp -s "$f" "$COMPLETION"; then
    tap_ok "make install puts it in .../bash-completion/completions/memledger"
  else
    tap_fail "make install puts it in .../bash-completion/completions/memledger" \
      "$(cat "$T_TMP/inst.log")" "$(find "$inst" -type f)"
  fi
else
  tap_skip "configured --without-bash-completion-dir"
fi
