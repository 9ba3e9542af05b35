"""Rendered artwork is well-formed SVG for any title text, deterministic, and distinct per variant."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from catalog.titles import Title
from ranker.artwork import VARIANTS, render, variants_for

SVG = "{http://www.w3.org/2000/svg}"
NASTY = "Tom & Jerry <3 \"Quotes\" 'Apostrophes' Ünïcödé 映画"
LONG = ("A Remarkably Long Film Title That Keeps Going " * 4)[:120]


def _title(**overrides: object) -> Title:
    fields: dict[str, object] = {
        "id": 7,
        "name": "Alien",
        "year": 1979,
        "genres": ("Horror", "Sci-Fi"),
        "tagline": "In space no one can hear you scream.",
        "keywords": ("spaceship", "android"),
        "directors": ("Ridley Scott",),
        "cast": ("Sigourney Weaver", "Tom Skerritt", "John Hurt", "Veronica Cartwright"),
        "runtime": 117,
    }
    fields.update(overrides)
    return Title(**fields)  # type: ignore[arg-type]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def _texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", ["Alien", NASTY, LONG])
def test_every_variant_parses_and_keeps_the_text(variant: str, name: str) -> None:
    title = _title(name=name, tagline=NASTY, cast=(NASTY, "Tom Skerritt"))
    root = _parse(render(title, variant))
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("300", "450")
    assert root.findtext(f"{SVG}title") == title.display_name  # escaped on the way in, intact on the way out
    assert root.get("aria-label") == title.display_name
    shown = " ".join(t.text or "" for t in _texts(root))
    assert "&amp;" not in shown  # escaped exactly once
    if name == NASTY:
        assert "tom & jerry <3" in shown.lower()


@pytest.mark.parametrize("variant", VARIANTS)
def test_long_titles_are_wrapped_to_fit_the_poster(variant: str) -> None:
    root = _parse(render(_title(name=LONG), variant))
    for text in _texts(root):
        size, content = float(text.get("font-size", 0)), text.text or ""
        x, y = float(text.get("x", 0)), float(text.get("y", 0))
        assert 0 <= y <= 450, content
        # The renderer budgets 0.6 em per character; check each line against that same budget.
        width = len(content) * size * 0.6
        left = x - width / 2 if text.get("text-anchor") == "middle" else x
        assert left >= 0 and left + width <= 300, content
    lines = " ".join(t.text or "" for t in _texts(root))
    assert "…" in lines or LONG.split()[-1] in lines.split()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "name", ["Groundhog Day", "Schindler's List", "Supercalifragilisticexpialidocious Returns"]
)
def test_names_wrap_at_word_boundaries_and_long_words_shrink_instead_of_breaking(
    variant: str, name: str
) -> None:
    root = _parse(render(_title(name=name, cast=()), variant))
    words = set(name.upper().split()) | set(name.split())
    name_lines = [t.text or "" for t in _texts(root) if t.text and set(t.text.split()) <= words]
    assert " ".join(name_lines).upper() == name.upper(), name_lines  # every word whole, none cut in two
    for text in _texts(root):
        width = len(text.text or "") * float(text.get("font-size", 0)) * 0.6
        assert width <= 300, text.text


def test_rendering_is_deterministic_and_differs_by_variant_and_title() -> None:
    title = _title()
    rendered = [render(title, v) for v in VARIANTS]
    assert rendered == [render(title, v) for v in VARIANTS]
    assert len(set(rendered)) == len(VARIANTS)
    assert render(_title(id=8), "mood") != render(title, "mood").replace(
        "mq-7-", "mq-8-"
    )  # shapes seeded by id


def test_mood_palette_follows_the_primary_genre() -> None:
    horror = render(_title(genres=("Horror",)), "mood")
    romance = render(_title(genres=("Romance",)), "mood")
    assert "#8b0000" in horror and "#8b0000" not in romance
    assert "#f8bbd0" in romance


def test_control_characters_are_dropped_and_size_is_honoured() -> None:
    root = _parse(render(_title(name="Bell\x07 and \x00null"), "title_card", width=400, height=600))
    assert root.findtext(f"{SVG}title") == "Bell and null (1979)"
    assert (root.get("width"), root.get("viewBox")) == ("400", "0 0 400 600")


def test_titles_without_metadata_still_render() -> None:
    bare = Title(id=1, name="Untitled", year=None, genres=())
    for variant in VARIANTS:
        _parse(render(bare, variant))


def test_variants_for_drops_cast_when_nobody_is_named() -> None:
    assert variants_for(_title()) == VARIANTS
    assert variants_for(_title(cast=())) == VARIANTS  # a director is enough
    assert "cast" not in variants_for(_title(cast=(), directors=()))


def test_unknown_variant_names_it_and_the_options() -> None:
    with pytest.raises(ValueError, match=r"'poster'.*title_card, cast, mood, minimal"):
        render(_title(), "poster")
    with pytest.raises(ValueError, match=r"50x450"):
        render(_title(), "mood", width=50)
