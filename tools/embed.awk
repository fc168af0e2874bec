# SPDX-License-Identifier: MIT
# tools/embed.awk - a text file as a C string: awk -v name=NAME -f embed.awk FILE
# prints "const char NAME[] = ...;" with one string literal per line.
# Escapes by character (backslash, double quote, and '?' against trigraphs),
# which behaves the same in every awk.
BEGIN { printf "const char %s[] =\n", name }
{
  out = ""
  n = length($0)
  for (i = 1; i <= n; i++) {
    c = substr($0, i, 1)
    if (c == "\\" || c == "\"" || c == "?") out = out "\\" c
    else out = out c
  }
  printf "  \"%s\\n\"\n", out
}
END { print "  \"\";" }
