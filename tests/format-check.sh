#!/usr/bin/env bash
# The C++ sources as the repository's .clang-format writes them: lists every file
# clang-format would change, and fails if there is one. Run `clang-format -i` on
# them to mend.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
[ "${#files[@]}" -gt 0 ] || { echo "no C++ files found (not a git checkout?)"; exit 1; }
if ! clang-format --dry-run -Werror "${files[@]}" 2> >(grep -o '^[^:]*:' | sort -u | sed 's/:$/: not formatted/' >&2); then
  echo "run: clang-format -i \$(git ls-files '*.cpp' '*.hpp')" >&2
  exit 1
fi
echo "${#files[@]} files formatted as .clang-format says"
