#!/usr/bin/env bash
# Checks that every C++ file under src/ is formatted as the checked-in .clang-format asks.
# Lists each file that is not (with clang-format's diagnostics) and exits non-zero; changes
# nothing. To fix: scripts/check_format.sh --fix (runs clang-format -i on the same files).
#
# Uses Debian bookworm's clang-format 14 (scripts/install.sh installs it); other versions may
# format some constructs differently. CAIRN_CLANG_FORMAT overrides the binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
CLANG_FORMAT="${CAIRN_CLANG_FORMAT:-clang-format}"

if ! command -v "${CLANG_FORMAT}" >/dev/null; then
  echo "check_format.sh: ${CLANG_FORMAT} not found (scripts/install.sh installs it)" >&2
  exit 1
fi

# Tracked files, and new ones not yet added (unless .gitignore'd), that still exist.
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- 'src/*.cc' 'src/*.h' |
  sort -u | while read -r f; do [[ -f "${f}" ]] && echo "${f}"; done)
if ((${#files[@]} == 0)); then
  echo "check_format.sh: no C++ files found under src/" >&2
  exit 1
fi

case "${1:-}" in
  "" | --fix) ;;
  *)
    echo "usage: scripts/check_format.sh [--fix]" >&2
    exit 2
    ;;
esac

if [[ "${1:-}" == "--fix" ]]; then
  "${CLANG_FORMAT}" -i "${files[@]}"
  echo "check_format.sh: formatted ${#files[@]} files"
  exit 0
fi

# One clang-format process for all files; its diagnostics name each file that differs.
if report="$("${CLANG_FORMAT}" --dry-run --Werror "${files[@]}" 2>&1)"; then
  echo "check_format.sh: ${#files[@]} files formatted as .clang-format asks"
  exit 0
fi
echo "${report}" >&2
mapfile -t unformatted < <(grep -oE '^[^:[:space:]]+:[0-9]+:[0-9]+: error:' <<<"${report}" |
  cut -d: -f1 | sort -u)
echo "check_format.sh: ${#unformatted[@]} of ${#files[@]} files need formatting:" >&2
printf '  %s\n' "${unformatted[@]}" >&2
echo "Fix with: scripts/check_format.sh --fix ($("${CLANG_FORMAT}" --version))" >&2
exit 1
