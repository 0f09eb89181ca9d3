"""Write the demo lessons' diagrams as SVG files, one per language, and render each to the PNG
file the lessons show (lesson images are PNG, JPEG, GIF or WebP: the platform does not serve SVG).

Run from this folder: ``../../../../.venv/bin/python make_diagrams.py`` (Playwright's Chromium,
as the browser tests use it; ``CHROMIUM`` names another binary). Each diagram is one layout and a
table of its words in each language (diagrams.yaml); see ../README.md, "Demo modules".
"""

import os
from html import escape
from pathlib import Path

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FONTS = "'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"
BLUE = "#0b5394"
INK = "#1d2b3a"
LEADING = 1.3

#: each diagram's words in each language (see diagrams.yaml)
WORDS = HERE / "diagrams.yaml"


def _text(x, y, lines, *, size, weight="normal", fill=INK, anchor="middle", rtl=False) -> str:
    """Lines of text anchored on ``x``, the first on ``y``; ``start`` is the right end in
    Arabic."""
    direction = ' direction="rtl"' if rtl else ""
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if number == 0 else round(size * LEADING)}">{escape(line)}</tspan>'
        for number, line in enumerate(lines)
    )
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
        f'text-anchor="{anchor}"{direction}>{spans}</text>'
    )


def _title(width: int, words: dict, rtl: bool) -> tuple[str, int]:
    """The diagram's title, centred, one or more lines; and where what follows may start."""
    lines = words["title"] if isinstance(words["title"], list) else [words["title"]]
    return (
        _text(width / 2, 40, lines, size=26, weight="bold", rtl=rtl),
        40 + round(26 * LEADING) * (len(lines) - 1) + 30,
    )


def _svg(width: int, height: int, body: list[str], language: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" lang="{language}" font-family="{FONTS}">'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>\n"
    )


def steps(words: dict, language: str) -> str:
    """Steps down the page (they stay legible on a phone): each label (a year, a number) in a
    circle on a line, its lines beside it, the first in bold where the item has a ``heading``;
    then the ``note``, if any, in a box under them. The line is on the right in Arabic."""
    rtl = language == "ar"
    width, size = 720, 21
    title, top = _title(width, words, rtl)
    axis = width - 90 if rtl else 90
    label = width - 160 if rtl else 160
    body, rows, y = [title], [], top + 36
    for item in words["items"]:
        heading = [item["heading"]] if "heading" in item else []
        lines = heading + item["lines"]
        block = round(size * LEADING) * (len(lines) - 1)
        rows.append((y, item["label"], lines, bool(heading), block))
        y += max(84, block + 46)
    body.append(
        f'<line x1="{axis}" y1="{top + 36}" x2="{axis}" y2="{rows[-1][0]}" stroke="{BLUE}" '
        'stroke-width="4"/>'
    )
    for centre, year, lines, bold, block in rows:
        body.append(f'<circle cx="{axis}" cy="{centre}" r="32" fill="{BLUE}"/>')
        body.append(_text(axis, centre + 7, [year], size=20, weight="bold", fill="#ffffff"))
        first = centre + 7 - block / 2
        if bold:
            body.append(
                _text(label, first, lines[:1], size=size, weight="bold", anchor="start", rtl=rtl)
            )
            first += round(size * LEADING)
            lines = lines[1:]
        body.append(_text(label, first, lines, size=size, anchor="start", rtl=rtl))
    if "note" in words:
        note = words["note"]
        height = 30 + round(19 * LEADING) * len(note)
        body.append(
            f'<rect x="24" y="{y - 24}" width="{width - 48}" height="{height}" rx="14" '
            f'fill="#fff4d6" stroke="#e0b64a" stroke-width="2"/>'
        )
        body.append(_text(width / 2, y + 6, note, size=19, rtl=rtl))
        y += height + 4
    return _svg(width, y - 20, body, language)


def layers(words: dict, language: str) -> str:
    """Four nested bands, the outermost first, each with its name and what it holds."""
    rtl = language == "ar"
    width, inset, band = 720, 34, 100
    fills = ("#e8f0f8", "#c6dbef", "#8db6dd", BLUE)
    title, top = _title(width, words, rtl)
    items = words["items"]
    inner_height = 150
    height = top + band * (len(items) - 1) + inner_height + 24 * (len(items) - 1) + 20
    body = [title]
    for number, item in enumerate(items):
        x, y = 16 + inset * number, top + band * number
        w = width - 2 * x
        h = height - 20 - y - 24 * number
        inner = number == len(items) - 1
        ink = "#ffffff" if inner else INK
        body.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="18" fill="{fills[number]}" '
            'stroke="#ffffff" stroke-width="3"/>'
        )
        first = y + 34 + (14 if inner else 0)
        body.append(
            _text(width / 2, first, [item["label"]], size=23, weight="bold", fill=ink, rtl=rtl)
        )
        body.append(_text(width / 2, first + 28, item["lines"], size=18, fill=ink, rtl=rtl))
    return _svg(width, height, body, language)


#: how each diagram of diagrams.yaml is drawn
LAYOUTS = {
    "cbrn-instruments": steps,
    "cbrn-layers": layers,
    "instruments-timeline": steps,
    "custody-chain": steps,
    "financing-flow": steps,
}


def main() -> None:
    import yaml
    from playwright.sync_api import sync_playwright

    diagrams = yaml.safe_load(WORDS.read_text(encoding="utf-8"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(device_scale_factor=1)
        for name, languages in diagrams.items():
            for language, words in languages.items():
                svg = LAYOUTS[name](words, language)
                (HERE / f"{name}.{language}.svg").write_text(svg, encoding="utf-8")
                page.set_content(f'<body style="margin:0">{svg}</body>')
                page.locator("svg").screenshot(path=str(HERE / f"{name}.{language}.png"))
        browser.close()


if __name__ == "__main__":
    main()
