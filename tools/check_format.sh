#!/usr/bin/env bash
# Checks that every C++ file is laid out as .clang-format says (Google's style, 100
# columns), with Debian 12's clang-format 14: another version lays some lines out
# differently, so CI and this script name the one the tree was formatted with.
#   tools/check_format.sh          lists the files that differ, with clang-format's diff
#   tools/check_format.sh --fix    rewrites them in place
# A block that must keep a hand-made layout (a table of test bytes) is fenced with
# `// clang-format off` and `// clang-format on`.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || true)
[ -n "$fmt" ] || { echo "check_format: clang-format-14 is not installed (tools/install-deps.sh)"; exit 1; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find core ring wire zones bench fuzz tests tools -name '*.cc' -o -name '*.h' | sort)
fi

[ "${#files[@]}" -gt 0 ] || { echo "check_format: no C++ files found (run it in the source tree)"; exit 1; }

if [ "${1:-}" = "--fix" ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi

differing=()
for f in "${files[@]}"; do
  "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1 || differing+=("$f")
done
if [ "${#differing[@]}" -gt 0 ]; then
  for f in "${differing[@]}"; do
    diff -u "$f" <("$fmt" "$f") | head -20 || true
  done
  echo "check_format: ${#differing[@]} of ${#files[@]} files differ from .clang-format:"
  printf '  %s\n' "${differing[@]}"
  echo "check_format: tools/check_format.sh --fix lays them out"
  exit 1
fi
echo "check_format: ${#files[@]} files as .clang-format lays them out"
