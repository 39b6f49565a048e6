#!/usr/bin/env bash
# Writes cachectl's man pages (one per command) to docs/man from the command
# tree. Run it after changing a command's flags or help; scripts/test.sh
# fails while docs/man differs from what this writes.
#
#   scripts/gen-man.sh
#   man -l docs/man/cachectl-watch.1
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
go run ./internal/mangen -out docs/man
echo "wrote $(ls docs/man/*.1 | wc -l) pages to docs/man" >&2
