#!/usr/bin/env bash
# Debian packages the tests need beyond Python: OpenGL (Mesa llvmpipe) for Kivy screens
# rendered offscreen. Installs only what is missing; a machine without apt (or not root) is
# told what to install and the tests that need it will say so.
set -euo pipefail
# chromium + a font: the dashboard's browser tests (Playwright drives Debian's chromium).
PACKAGES=(libgl1 libegl1 libgl1-mesa-dri chromium fonts-dejavu-core)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "missing Debian packages (install them as root): ${missing[*]}" >&2
fi
