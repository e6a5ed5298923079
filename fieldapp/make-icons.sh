#!/usr/bin/env bash
# Draws the field app's icons (fieldapp/static/fieldapp/icons/) from the favicon's shapes in headless Chromium:
# no image library is needed on the machine. Run from anywhere; commit the PNGs it writes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/static/fieldapp/icons
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

M='<path d="M7 24V8h4l5 8 5-8h4v16h-4V15l-5 8-5-8v9z" fill="#fff"/>'
page() {  # page NAME SVG-BODY: a page whose whole window is the 32x32 drawing
    printf '<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block;width:100vw;height:100vh}</style><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">%s</svg>' "$2" >"$work/$1.html"
}
page any "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#264b5d\"/>$M"        # the favicon itself
# Maskable: the launcher cuts any shape from the square, so the colour fills it and the M stays in the middle 70%.
page maskable "<rect width=\"32\" height=\"32\" fill=\"#264b5d\"/><g transform=\"translate(16 16) scale(0.7) translate(-16 -16)\">$M</g>"
# Badge (Android's status bar): only its alpha counts, so a white M on nothing.
page badge "<g transform=\"translate(16 16) scale(1.25) translate(-16 -16)\">$M</g>"

shot() {  # shot PAGE SIZE FILE
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --default-background-color=00000000 --window-size="$2,$2" --screenshot="$out/$3" "file://$work/$1.html" 2>/dev/null
}
shot any 192 icon-192.png
shot any 512 icon-512.png
shot maskable 512 maskable-512.png
shot maskable 180 apple-touch-icon.png  # iOS rounds the corners itself and shows transparency as black
shot badge 96 badge-96.png
