#!/usr/bin/env bash
# Make sure a real spreadsheet application (LibreOffice Calc, headless) and pdftoppm are
# available for the tests that recalculate and render result workbooks.
#
# Idempotent and never fatal: if the tools are present this is a no-op; if we are root on a
# Debian/Ubuntu machine we install them; otherwise we print how to install them and exit 0 so a
# laptop `make test` still runs (those tests then skip; under CI=true they fail instead).
set -u

have() { command -v "$1" >/dev/null 2>&1; }

if have soffice && have pdftoppm; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && have apt-get; then
    echo "ensure-libreoffice: installing libreoffice-calc-nogui and poppler-utils (this takes a few minutes)..."
    if apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui poppler-utils; then
        have soffice && soffice --version 2>/dev/null | head -n 1
        exit 0
    fi
    echo "ensure-libreoffice: WARNING: apt-get install failed; spreadsheet tests will skip (or fail under CI=true)." >&2
    exit 0
fi

missing=""
have soffice || missing="$missing soffice"
have pdftoppm || missing="$missing pdftoppm"
cat >&2 <<MSG
ensure-libreoffice: not found:$missing
  The tests that recalculate result workbooks in a real spreadsheet need LibreOffice Calc and poppler:
    Debian/Ubuntu: sudo apt-get install libreoffice-calc-nogui poppler-utils
    macOS:         brew install --cask libreoffice && brew install poppler
  (or run 'make test' as root on Debian/Ubuntu, which installs them). Those tests will be skipped.
MSG
exit 0
