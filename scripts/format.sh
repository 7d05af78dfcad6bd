#!/usr/bin/env bash
# Formats the C++ sources (src/, include/, tests/, bench/, fuzz/, examples/) with the repository's
# .clang-format. `scripts/format.sh --check` changes nothing and exits 1 naming the files that
# are not formatted (CI's first step).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v clang-format >/dev/null || { echo "format: clang-format not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files -- 'src/*.h' 'src/*.cc' 'include/*.h' 'tests/*.h' 'tests/*.cc' \
                       'bench/*.h' 'bench/*.cc' 'fuzz/*.h' 'fuzz/*.cc' 'examples/*.h' 'examples/*.cc' |
                     grep -v '/node_modules/')
if [ "${1:-}" = "--check" ]; then
  unformatted=()
  for f in "${files[@]}"; do
    clang-format --style=file "$f" | cmp -s - "$f" || unformatted+=("$f")
  done
  if [ ${#unformatted[@]} -gt 0 ]; then
    echo "format: ${#unformatted[@]} file(s) differ from .clang-format (run scripts/format.sh):" >&2
    printf '  %s\n' "${unformatted[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  clang-format --style=file -i "${files[@]}"
fi
