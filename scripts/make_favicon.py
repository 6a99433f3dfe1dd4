"""Draws static/favicon.svg with Debian's chromium and packs it into static/favicon.ico (PNG
images of 16, 32 and 48 px in one ICO file). Run again after changing the SVG."""

import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "static"
SIZES = (16, 32, 48)


def pngs() -> list[bytes]:
    svg = (STATIC / "favicon.svg").read_text()
    images = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                "<style>html,body{margin:0;background:transparent}svg{display:block}</style>"
                + svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            )
            images.append(page.screenshot(omit_background=True))
            page.close()
        browser.close()
    return images


def ico(images: list[bytes]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, data = b"", b""
    for size, png in zip(SIZES, images, strict=True):
        entries += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


if __name__ == "__main__":
    (STATIC / "favicon.ico").write_bytes(ico(pngs()))
