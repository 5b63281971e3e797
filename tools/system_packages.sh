#!/usr/bin/env bash
# Install the system packages the browser test needs (Chromium, npm) when they are missing.
# As root (CI, a container) it uses apt-get; otherwise it uses sudo when that works without a
# password, and else stops with the command to run. `make book` never calls this.
set -euo pipefail
need=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
  echo "The browser test needs: ${need[*]}. Install them and rerun, e.g." >&2
  echo "  sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "The browser test needs: ${need[*]}, and this system has no apt-get; install them and rerun." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Fast path without `apt-get update` (the package lists are often fresh); update once if it fails.
$SUDO apt-get install -y --no-install-recommends "${need[@]}" \
  || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${need[@]}"; }
