#!/usr/bin/env bash
# The published Corefiles (tests/corefiles/published/, each with its source in its first
# lines, SOURCES.tsv listing them) as a user would try them with `ringdns -validate`:
# each one ringdns runs gives the server blocks it was written with, and its normalised
# form reads back to itself; each one it refuses says why, at a file:line:column
# (a cluster-DNS one: that the plugin serves names itself and belongs on CoreDNS).
# EXPECTED.tsv holds, per file, "valid" and the normalised server keys, or "refused" and
# what the error must say. Only parsed: nothing is started, no upstream is asked.
set -uo pipefail
. "$(dirname "$0")/lib_tool_test.sh" "$1"
dir=$root/tests/corefiles/published
# `forward . /etc/resolv.conf` is read by -validate: a file of our own stands in for this
# machine's, which a build chroot may lack.
printf 'nameserver 192.0.2.53\n' >"$work/resolv.conf"
count=0
while IFS=$'\t' read -r file outcome what || [ -n "$file" ]; do
  count=$((count + 1))
  check "$file has an outcome and what to look for" test -n "$outcome" -a -n "$what"
  check "$file is listed in SOURCES.tsv with its source" grep -q "^$file	https://" "$dir/SOURCES.tsv"
  check "$file begins with its source" grep -q '^# Source: https://' <(head -3 "$dir/$file")
  corefile=$work/$file
  sed "s#/etc/resolv.conf#$work/resolv.conf#g" "$dir/$file" >"$corefile"
  if [ "$outcome" = valid ]; then
    if ! "$ringdns" -conf "$corefile" -validate >"$work/normalised" 2>"$work/err"; then
      check "$file validates ($(grep -v '^\[INFO\]' "$work/err" | head -1))" false
      continue
    fi
    keys=$(grep -E '^(dns|tls)://' "$work/normalised" | tr -d ' {' | tr '\n' ' ' | sed 's/ $//')
    check "$file serves $what (got: $keys)" test "$keys" = "$what"
    "$ringdns" -conf "$work/normalised" -validate >"$work/again" 2>/dev/null
    check "$file's normalised form reads back to itself" cmp -s "$work/normalised" "$work/again"
  else
    if "$ringdns" -conf "$corefile" -validate >/dev/null 2>"$work/err"; then
      check "$file is refused" false
      continue
    fi
    error=$(grep -v '^\[INFO\]' "$work/err" | head -1)
    check "$file is refused at a position in it ($error)" grep -qE '^[0-9]+:[0-9]+: ' <<<"${error#"ringdns: $corefile:"}"
    check "$file is refused saying: $what" grep -qF -- "$what" <<<"$error"
  fi
done <"$dir/EXPECTED.tsv"
check "at least 25 published Corefiles ($count)" test "$count" -ge 25
check "EXPECTED.tsv names every Corefile in the folder, each once" \
  test "$(cd "$dir" && ls *.Corefile)" = "$(cut -f1 "$dir/EXPECTED.tsv" | sort)"
exit $((failures > 0))
