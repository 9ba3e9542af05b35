"""The Streamlit app driven by `AppTest` against a live API: profiles, onboarding, rows, actions, chat."""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from engine import EventKind, package_version
from tests.ui.conftest import LiveApi
from ui.cards import escape
from ui.client import MarqueeClient, Page

SVG = "http://www.w3.org/2000/svg"


def row_cards(at: AppTest) -> dict[str, list[int]]:
    """Homepage row id -> the title ids of its cards, read from the cards' play buttons."""
    rows: dict[str, list[int]] = defaultdict(list)
    for button in at.button:
        key = button.key or ""
        if key.startswith("row.") and key.endswith(":play"):
            row, title, _ = key[len("row.") :].rsplit(":", 2)
            rows[row].append(int(title))
    return dict(rows)


def cards_in(at: AppTest, prefix: str) -> list[int]:
    return [
        int(b.key.split(":")[-2])
        for b in at.button
        if (b.key or "").startswith(prefix) and b.key.endswith(":play")
    ]


def headings(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


def create_profile(at: AppTest, name: str) -> str:
    """From "Who's watching?", create a profile; returns its id (the app is then onboarding it)."""
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Who's watching?"]
    at.text_input(key="new-profile-name").input(name)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["What do you like?"]
    return str(at.session_state["profile_id"])


def _title_of(box: object) -> int:
    return int(str(box.key).rsplit("-", 1)[1])  # type: ignore[attr-defined]


def home(at: AppTest, name: str = "Ana") -> str:
    """A new profile, onboarding skipped: its (cold-start) home screen."""
    pid = create_profile(at, name)
    at.button(key="onboarding-skip").click().run()
    assert not at.exception, at.exception
    assert row_cards(at), "no rows on the home screen"
    return pid


def test_profile_creation_and_onboarding_personalize_the_rows(app_test: AppTest, live_api: LiveApi) -> None:
    at = app_test
    pid = create_profile(at, "Ana")
    profile = live_api.engine.accounts().profile(pid)
    assert profile is not None and profile.name == "Ana"
    genres = at.pills(key="onboarding-genres").options
    assert "Comedy" in genres
    offered = [c for c in at.checkbox if (c.key or "").startswith("onboarding-title-")]
    assert len(offered) >= 6
    # A title that is no comedy: then naming Comedy adds popular comedies (a genre a pick carries adds none).
    box = next(c for c in offered if "Comedy" not in live_api.engine.titles()[_title_of(c)].genres)
    picked = _title_of(box)
    picked_name = live_api.engine.titles()[picked].name
    at.pills(key="onboarding-genres").set_value(["Comedy"])
    box.check()
    at.button(key="onboarding-done").click().run()
    assert not at.exception, at.exception

    # What the API stored: the picked title liked, plus popular comedies for the genre.
    liked = {e.title_id for e in live_api.engine.events(pid) if e.kind == EventKind.THUMB_UP}
    assert picked in liked and len(liked) > 1
    # What the home screen shows: rows built from those picks, not the cold-start three.
    shown = headings(at)
    assert f"Because You Watched {picked_name}" in shown, shown
    assert [t.value for t in at.toast] == [f"Your home screen is built from {len(liked)} titles you like."]


def test_rows_render_from_the_api_with_artwork_and_one_set_of_impressions(
    app_test: AppTest, live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pages the UI received from the API. Asking the API again would not do: a page's exploration is
    # drawn per request, so a thin row (New Releases) can be in one page and not in the next.
    pages: list[Page] = []
    fetch = MarqueeClient.rows

    def recorded(client: MarqueeClient, profile_id: str, **kwargs: Any) -> Page:
        pages.append(fetch(client, profile_id, **kwargs))
        return pages[-1]

    monkeypatch.setattr(MarqueeClient, "rows", recorded)
    at = app_test
    pid = home(at)
    rows = row_cards(at)
    assert headings(at)[0] == "Top Picks for You"  # pinned first, in the API's order
    assert f"API version {package_version()}" in [c.value for c in at.sidebar.caption]
    assert pages, "the home screen was not built from the API's rows"
    assert set(rows) == {r.id for r in pages[-1].rows}
    assert set(headings(at)) >= {r.heading for r in pages[-1].rows}
    assert all(1 <= len(ids) <= 10 for ids in rows.values())
    shown = [t for ids in rows.values() for t in ids]
    assert len(shown) == len(set(shown)), "a title twice on one page"
    images = [url for img in at.image for url in img.value]
    assert len(images) == len(shown)
    assert all(url.startswith("data:image/svg+xml;base64,") for url in images)
    svg = base64.b64decode(images[0].split(",", 1)[1])
    first = live_api.engine.titles()[rows[list(rows)[0]][0]]
    # The artwork of the first card, as the API drew it: read its title back rather than expecting the name
    # verbatim in the drawing, which escapes and wraps it.
    assert ElementTree.fromstring(svg).findtext(f"{{{SVG}}}title") == first.display_name
    names = [m.value for m in at.markdown]
    for title_id in rows["top_picks"]:
        title = live_api.engine.titles()[title_id]
        assert any(n.startswith(f"**{escape(title.name)}**") for n in names), title.name

    impressions = [e for e in live_api.engine.events(pid) if e.kind == EventKind.IMPRESSION]
    assert sorted(e.title_id for e in impressions) == sorted(shown)
    assert {e.row for e in impressions} == set(rows)
    assert all(e.context.get("artwork") in {"title_card", "cast", "mood", "minimal"} for e in impressions)
    assert len({e.event_id for e in impressions}) == len(impressions)

    at.run()  # redrawing the same page: no second set of impressions
    again = [e for e in live_api.engine.events(pid) if e.kind == EventKind.IMPRESSION]
    assert len(again) == len(impressions)


def test_thumbs_down_removes_the_title_from_the_rows(app_test: AppTest, live_api: LiveApi) -> None:
    at = app_test
    pid = home(at)
    victim = row_cards(at)["top_picks"][0]
    at.button(key=f"row.top_picks:{victim}:down").click().run()
    assert not at.exception, at.exception
    after = row_cards(at)
    assert after, "rows vanished"
    assert all(victim not in ids for ids in after.values()), after
    downs = [e for e in live_api.engine.events(pid) if e.kind == EventKind.THUMB_DOWN]
    assert [(e.title_id, e.row) for e in downs] == [(victim, "top_picks")]


def test_play_puts_the_title_in_continue_watching(app_test: AppTest, live_api: LiveApi) -> None:
    at = app_test
    pid = home(at)
    title = row_cards(at)["trending"][0]
    at.button(key=f"row.trending:{title}:play").click().run()
    assert not at.exception, at.exception
    assert row_cards(at).get("continue_watching") == [title]
    assert headings(at)[0] == "Continue Watching"
    kinds = [e.kind for e in live_api.engine.events(pid) if e.title_id == title]
    assert EventKind.PLAY in kinds and EventKind.PROGRESS in kinds


def test_my_list_round_trips_through_the_cards(app_test: AppTest, live_api: LiveApi) -> None:
    at = app_test
    pid = home(at)
    first, second = row_cards(at)["top_picks"][:2]
    for title in (first, second):
        at.button(key=f"row.top_picks:{title}:list").click().run()
        assert not at.exception, at.exception
    assert row_cards(at)["my_list"] == [second, first]  # newest first, fetched again after the write
    assert "My List" in headings(at)
    stored = [e.kind for e in live_api.engine.events(pid) if e.title_id == first]
    assert EventKind.ADD_TO_LIST in stored
    at.button(key=f"row.my_list:{second}:list").click().run()  # on My List the button removes
    assert not at.exception, at.exception
    assert row_cards(at)["my_list"] == [first]
    key = at.session_state["created-key"]
    api = httpx.get(f"{live_api.url}/v1/profiles/{pid}/list", headers={"X-API-Key": key}).json()
    assert [i["title_id"] for i in api["items"]] == [first]


def test_more_like_this_details_and_search(app_test: AppTest, live_api: LiveApi) -> None:
    at = app_test
    home(at)
    title = row_cards(at)["top_picks"][0]
    name = live_api.engine.titles()[title].name

    at.button(key=f"row.top_picks:{title}:similar").click().run()
    assert not at.exception, at.exception
    similar = cards_in(at, "similar:")
    assert similar and title not in similar
    assert any(h.startswith("More like ") for h in headings(at))

    # A card inside the panel opens the next panel in the same place.
    hop = similar[0]
    at.button(key=f"similar:{hop}:similar").click().run()
    hop_name = escape(live_api.engine.titles()[hop].name)
    assert f"More like {hop_name}" in headings(at)
    assert at.session_state["panel"].anchor == "row.top_picks"

    at.button(key=f"row.top_picks:{title}:details").click().run()
    opened = live_api.engine.titles()[title]
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert any(", ".join(opened.genres) in m for m in shown)
    # The overview is the optional TMDB metadata's (the official archive has none): shown when there is one.
    if opened.overview:
        assert any(opened.overview[:40] in m for m in shown)
    at.button(key="panel-close").click().run()
    assert not any(h.startswith("More like ") for h in headings(at))
    assert not cards_in(at, "details:")

    at.text_input(key="search-q").input(name).run()
    assert not at.exception, at.exception
    found = cards_in(at, "search:")
    assert found and found[0] == title, (name, found)


def test_a_chat_turn_streams_a_reply_and_shows_its_picks_as_cards(
    app_test: AppTest, live_api: LiveApi
) -> None:
    at = app_test
    pid = home(at)
    at.chat_input(key="chat-input").set_value("a funny animated movie for tonight").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    messages = at.chat_message
    assert [m.name for m in messages] == ["user", "assistant"]
    reply = " ".join(m.value for m in messages[1].markdown)
    assert reply.strip()
    picks = cards_in(at, "chat.1:")
    assert picks, "the reply has no title cards"
    assert all(t in live_api.engine.titles() for t in picks)
    convo = at.session_state["conversations"][pid]
    assert convo.conversation_id
    if convo.mode == "offline":
        assert any("Offline assistant" in c.value for c in at.caption)

    # The cards act like the homepage's: a thumbs down from the chat reaches the API.
    at.button(key=f"chat.1:{picks[0]}:down").click().run()
    downs = [e.title_id for e in live_api.engine.events(pid) if e.kind == EventKind.THUMB_DOWN]
    assert downs == [picks[0]]

    # A second turn continues the same conversation.
    at.chat_input(key="chat-input").set_value("something shorter").run()
    assert not at.exception, at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]
    assert at.session_state["conversations"][pid].conversation_id == convo.conversation_id
