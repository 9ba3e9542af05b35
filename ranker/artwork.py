"""Artwork variants rendered from metadata as self-contained SVG posters.

We draw our own artwork rather than download posters: every title gets the same four treatments,
the artwork bandit can test them against each other, and nothing depends on an image host.
Output is deterministic (shapes are seeded by title id) and uses only generic font families.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable
from xml.sax.saxutils import escape

from catalog.titles import Title

VARIANTS: tuple[str, ...] = ("title_card", "cast", "mood", "minimal")

# Top and bottom of the title card gradient, by primary genre.
_GRADIENTS: dict[str, tuple[str, str]] = {
    "Action": ("#d84315", "#3e0f05"), "Animation": ("#ff8f00", "#6a1b9a"), "War": ("#5d6b3a", "#1d2212"),
    "Adventure": ("#2e7d32", "#0b2a10"), "Children": ("#29b6f6", "#01579b"), "Crime": ("#37474f", "#0d1317"),
    "Comedy": ("#ffe082", "#ff8f00"), "Documentary": ("#6d4c41", "#1b120f"), "Drama": ("#5c6bc0", "#1a1f4d"),
    "Fantasy": ("#8e24aa", "#1f0a2e"), "Film-Noir": ("#424242", "#000000"), "Horror": ("#8b0000", "#0a0000"),
    "Musical": ("#ec407a", "#4a0d2a"), "Mystery": ("#455a64", "#10161a"), "Romance": ("#f06292", "#880e4f"),
    "Sci-Fi": ("#1565c0", "#020b26"), "Thriller": ("#263238", "#5d0b0b"), "Western": ("#c1783a", "#3b2210"),
}  # fmt: skip
_DEFAULT_GRADIENT = ("#546e7a", "#1c262b")

# Mood compositions by genre family; the palette is (background top, background bottom, shapes...).
_MOOD_OF: dict[str, str] = {
    "Horror": "dread", "Thriller": "dread", "Crime": "dread", "Film-Noir": "dread", "Mystery": "dread",
    "Romance": "tender", "Musical": "tender",
    "Sci-Fi": "cosmos", "Fantasy": "cosmos",
    "Comedy": "play", "Animation": "play", "Children": "play",
    "Action": "rush", "Adventure": "rush", "War": "rush", "Western": "rush",
}  # fmt: skip
_PALETTES: dict[str, tuple[str, ...]] = {
    "dread": ("#1a0000", "#000000", "#8b0000", "#b71c1c", "#3e0000"),
    "tender": ("#fde4ec", "#fbd3c4", "#f8bbd0", "#ffccbc", "#e1bee7"),
    "cosmos": ("#0d1b4c", "#01030f", "#ffffff", "#90caf9", "#5c6bc0"),
    "play": ("#fff59d", "#ffb74d", "#e53935", "#1e88e5", "#43a047"),
    "rush": ("#ff6f00", "#1a0800", "#ffd54f", "#000000", "#e65100"),
    "calm": ("#37474f", "#263238", "#80cbc4", "#b0bec5", "#4db6ac"),
}

_SANS = "Helvetica, Arial, sans-serif"
_SERIF = "Georgia, 'Times New Roman', serif"
_CHAR_WIDTH = 0.6  # a conservative average glyph width, in ems, for wrapping without font metrics
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def variants_for(title: Title) -> tuple[str, ...]:
    """The variants worth testing for this title: a cast poster needs people to name."""
    return tuple(v for v in VARIANTS if v != "cast" or title.cast or title.directors)


def render(title: Title, variant: str, *, width: int = 300, height: int = 450) -> str:
    """A complete SVG document for one artwork variant of a title."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown artwork variant {variant!r}; valid: {', '.join(VARIANTS)}")
    if width < 100 or height < 100:
        raise ValueError(f"artwork size {width}x{height} is too small; width and height must be >= 100")
    uid = f"mq-{title.id}-{variant}"  # ids stay unique when several posters share one HTML page
    body = _DRAW[variant](title, width, height, uid)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title.display_name)}">\n'
        f"<title>{_esc(title.display_name)}</title>\n" + "\n".join(body) + "\n</svg>\n"
    )


def _title_card(title: Title, w: int, h: int, uid: str) -> list[str]:
    top, bottom = _GRADIENTS.get(_primary(title), _DEFAULT_GRADIENT)
    ink = _ink(top, bottom)
    out = _backdrop(uid, w, h, top, bottom)
    size, lines = _fit(title.name.upper(), w * 0.84, h * 0.5, (w * 0.16, w * 0.13, w * 0.1, w * 0.08))
    y = h * 0.42 - (len(lines) - 1) * size * 0.55
    out += _lines(lines, w / 2, y, size, ink, _SANS, weight="bold")
    if title.year:
        out += _lines([str(title.year)], w / 2, y + len(lines) * size * 1.1 + w * 0.04, w * 0.07, ink, _SANS)
    if title.genres:
        genres = _wrap(" · ".join(title.genres[:3]).upper(), _chars(w * 0.84, w * 0.045), 1)
        out += _lines(genres, w / 2, h * 0.93, w * 0.045, ink, _SANS, opacity=0.8)
    return out


def _cast(title: Title, w: int, h: int, uid: str) -> list[str]:
    if not (title.cast or title.directors):
        return _title_card(title, w, h, uid)  # nobody to name; `variants_for` leaves this variant out
    top, bottom = _GRADIENTS.get(_primary(title), _DEFAULT_GRADIENT)
    label, names = ("STARRING", title.cast[:3]) if title.cast else ("A FILM BY", title.directors[:1])
    out = _backdrop(uid, w, h, "#111111", bottom)
    out.append(_el("rect", x=0, y=h * 0.08, width=w * 0.03, height=h * 0.5, fill=top))
    out += _lines([label], w * 0.1, h * 0.14, w * 0.045, "#ffffff", _SANS, anchor="start", opacity=0.7)
    y = h * 0.24
    for name in names:
        size, lines = _fit(name, w * 0.82, h * 0.2, (w * 0.1, w * 0.08, w * 0.065), max_lines=2)
        out += _lines(lines, w * 0.1, y, size, "#ffffff", _SANS, anchor="start", weight="bold")
        y += len(lines) * size * 1.1 + h * 0.03
    size, lines = _fit(title.name, w * 0.84, h * 0.2, (w * 0.08, w * 0.065, w * 0.05), max_lines=3)
    bottom_line = h * 0.87 - (len(lines) - 1) * size * 1.1  # the block ends above the year
    out += _lines(lines, w / 2, bottom_line, size, "#ffffff", _SERIF, opacity=0.9)
    if title.year:
        out += _lines([str(title.year)], w / 2, h * 0.94, w * 0.045, "#ffffff", _SANS, opacity=0.7)
    return out


def _mood(title: Title, w: int, h: int, uid: str) -> list[str]:
    mood = _MOOD_OF.get(_primary(title), "calm")
    bg_top, bg_bottom, *shades = _PALETTES[mood]
    rng = random.Random(title.id)
    out = _backdrop(uid, w, h, bg_top, bg_bottom) + _SHAPES[mood](rng, w, h, shades)
    ink = _ink(bg_top, bg_bottom)
    line = title.tagline or " · ".join(title.keywords[:3]) or " · ".join(title.genres[:3])
    if line:
        size = w * 0.055
        out += _lines(_wrap(line, _chars(w * 0.84, size), 3), w / 2, h * 0.72, size, ink, _SERIF, italic=True)
    size, lines = _fit(title.name, w * 0.84, h * 0.12, (w * 0.08, w * 0.06), max_lines=2)
    out += _lines(lines, w / 2, h * 0.9, size, ink, _SANS, weight="bold")
    return out


def _minimal(title: Title, w: int, h: int, uid: str) -> list[str]:
    out = [_el("rect", width=w, height=h, fill="#f4f1ea")]
    size, lines = _fit(title.name, w * 0.8, h * 0.55, (w * 0.13, w * 0.1, w * 0.08, w * 0.06))
    out += _lines(lines, w * 0.1, h * 0.2, size, "#111111", _SERIF, anchor="start")
    rule_y = h * 0.2 + len(lines) * size * 1.1
    out.append(_el("rect", x=w * 0.1, y=rule_y, width=w * 0.2, height=2, fill="#111111"))
    facts = (title.year, _primary(title).upper(), title.runtime and f"{title.runtime} MIN")
    text = " / ".join(str(f) for f in facts if f)
    out += _lines([text], w * 0.1, rule_y + w * 0.09, w * 0.04, "#555555", _SANS, anchor="start")
    return out


def _dread(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    moon = _el("circle", cx=w * rng.uniform(0.3, 0.7), cy=h * 0.28, r=w * 0.22, fill=shades[0])
    drips = [
        _el("rect", x=rng.uniform(0, w), y=0, width=rng.uniform(2, w * 0.03),
            height=rng.uniform(h * 0.05, h * 0.45), fill=rng.choice(shades), opacity=0.8)
        for _ in range(14)
    ]  # fmt: skip
    return [moon, *drips]


def _tender(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    return [
        _el("circle", cx=rng.uniform(0, w), cy=rng.uniform(0, h * 0.6), r=rng.uniform(w * 0.1, w * 0.3),
            fill=rng.choice(shades), opacity=0.6)
        for _ in range(9)
    ]  # fmt: skip


def _cosmos(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    stars = [
        _el("circle", cx=rng.uniform(0, w), cy=rng.uniform(0, h), r=rng.uniform(0.4, 1.8),
            fill=rng.choice(shades[:2]), opacity=rng.uniform(0.4, 1))
        for _ in range(60)
    ]  # fmt: skip
    cx, cy, r = w * rng.uniform(0.3, 0.7), h * 0.3, w * 0.18
    ring = _el("ellipse", cx=cx, cy=cy, rx=r * 1.7, ry=r * 0.35, fill="none", stroke=shades[1],
               stroke_width=3, transform=f"rotate(-15 {cx:.1f} {cy:.1f})")  # fmt: skip
    return [*stars, _el("circle", cx=cx, cy=cy, r=r, fill=shades[2]), ring]


def _play(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    confetti = []
    for _ in range(30):
        x, y, angle = rng.uniform(0, w), rng.uniform(0, h * 0.62), rng.uniform(0, 180)
        confetti.append(_el("rect", x=x, y=y, width=w * 0.04, height=w * 0.015, fill=rng.choice(shades),
                            transform=f"rotate({angle:.0f} {x:.1f} {y:.1f})"))  # fmt: skip
    return confetti


def _rush(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    streaks = []
    for _ in range(8):
        x, y, t, run = (
            rng.uniform(-w * 0.3, w),
            rng.uniform(-h * 0.1, h * 0.3),
            rng.uniform(4, w * 0.06),
            w * 0.5,
        )
        corners = ((x, y + run), (x + run, y), (x + run + t, y), (x + t, y + run))
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in corners)
        streaks.append(_el("polygon", points=points, fill=rng.choice(shades), opacity=0.85))
    return streaks


def _calm(rng: random.Random, w: int, h: int, shades: list[str]) -> list[str]:
    bands, y = [], h * 0.15
    for _ in range(6):
        band = rng.uniform(h * 0.03, h * 0.08)
        shade, opacity = rng.choice(shades), rng.uniform(0.2, 0.6)
        bands.append(_el("rect", x=0, y=y, width=w, height=band, fill=shade, opacity=opacity))
        y += band + rng.uniform(h * 0.01, h * 0.04)
    return bands


_SHAPES: dict[str, Callable[[random.Random, int, int, list[str]], list[str]]] = {
    "dread": _dread, "tender": _tender, "cosmos": _cosmos, "play": _play, "rush": _rush, "calm": _calm,
}  # fmt: skip
_DRAW: dict[str, Callable[[Title, int, int, str], list[str]]] = {
    "title_card": _title_card, "cast": _cast, "mood": _mood, "minimal": _minimal,
}  # fmt: skip


def _primary(title: Title) -> str:
    return title.genres[0] if title.genres else ""


def _esc(text: str) -> str:
    """Escape for element text and attribute values alike, dropping characters XML 1.0 forbids."""
    return escape(_NOT_XML.sub("", text), {'"': "&quot;", "'": "&apos;"})


def _ink(top: str, bottom: str) -> str:
    """Dark text on light backgrounds, white on dark ones, by the gradient's mean perceived brightness."""
    channels = [int(c[i : i + 2], 16) for c in (top, bottom) for i in (1, 3, 5)]
    r, g, b = ((channels[i] + channels[i + 3]) / 2 for i in range(3))
    return "#1a1a1a" if 0.299 * r + 0.587 * g + 0.114 * b > 170 else "#ffffff"


def _backdrop(uid: str, w: int, h: int, top: str, bottom: str) -> list[str]:
    """A vertical gradient filling the poster."""
    stops = _el("stop", offset=0, stop_color=top) + _el("stop", offset=1, stop_color=bottom)
    gradient = f'<linearGradient id="{uid}-bg" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>'
    return [f"<defs>{gradient}</defs>", _el("rect", width=w, height=h, fill=f"url(#{uid}-bg)")]


def _el(tag: str, content: str | None = None, **attrs: float | str) -> str:
    """One SVG element; numbers are rounded to keep documents small, underscores become dashes."""
    pairs = " ".join(
        f'{k.replace("_", "-")}="{round(v, 2) if isinstance(v, float) else v}"' for k, v in attrs.items()
    )
    return f"<{tag} {pairs}/>" if content is None else f"<{tag} {pairs}>{_esc(content)}</{tag}>"


def _chars(box_width: float, size: float) -> int:
    return max(4, int(box_width / (size * _CHAR_WIDTH)))


def _wrap(text: str, max_chars: int, max_lines: int) -> list[str]:
    """Word-wrap at word boundaries to at most `max_lines`, ending in an ellipsis when the text does not
    fit. A word longer than a line is cut only here, as a last resort; `_fit` shrinks the type first."""
    lines = textwrap.wrap(" ".join(text.split()), max_chars, break_long_words=False) or [""]
    lines = [line if len(line) <= max_chars else line[: max_chars - 1] + "…" for line in lines]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max_chars - 1].rstrip() + "…"
    return lines


def _fit(
    text: str, box_width: float, box_height: float, sizes: tuple[float, ...], max_lines: int = 4
) -> tuple[float, list[str]]:
    """The largest font size whose wrapped text fits the box whole. A word too long for every size's line
    ("SCHINDLER'S") gets a smaller size of its own rather than a break in the middle."""
    longest = max((len(word) for word in text.split()), default=1)
    shrunk = box_width / ((longest + 0.5) * _CHAR_WIDTH)  # the longest word just fits one line
    for size in (*sizes, min(sizes[-1], shrunk)):
        fits = min(max_lines, max(1, int(box_height / (size * 1.1))))
        lines = _wrap(text, _chars(box_width, size), fits)
        if not any(line.endswith("…") for line in lines):
            return size, lines
    return size, lines


def _lines(
    lines: list[str],
    x: float,
    y: float,
    size: float,
    fill: str,
    family: str,
    *,
    anchor: str = "middle",
    weight: str = "normal",
    italic: bool = False,
    opacity: float = 1.0,
) -> list[str]:
    """One text element per line, `size * 1.1` apart, starting at baseline `y`."""
    style = "italic" if italic else "normal"
    return [
        _el("text", line, x=x, y=y + i * size * 1.1, font_size=size, fill=fill, font_family=family,
            text_anchor=anchor, font_weight=weight, font_style=style, opacity=opacity)
        for i, line in enumerate(lines)
    ]  # fmt: skip
