"""Title cards (artwork, name, year, why it is here) and what their buttons do.

Every button is an `on_click` callback: it calls the API before the next render, leaves a message and,
when the action changes what the profile should see, drops the cached rows so they are fetched again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import streamlit as st

from ui import state
from ui.client import ApiError, Card, Event, MarqueeClient

CARD_WIDTH = 210  # px; six icon buttons at about 35 px each
NARROW_CARD_WIDTH = 176  # in the chat pane
START_PROGRESS = 0.05  # the share of a title a "play" click reports as watched: it is started, not done
PANEL_SURFACES = ("similar", "details")  # cards shown inside a panel
MY_LIST_ROW = "my_list"  # the API's row id of the profile's saved titles
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def escape(text: str) -> str:
    """Show `text` literally inside markdown (titles like "M*A*S*H" or "[REC]")."""
    return _MARKDOWN.sub(r"\\\1", text)


@dataclass(frozen=True)
class Surface:
    """Where cards are shown: `key` makes widget keys unique, `row` is the homepage row id sent with
    events (None off the homepage), `name` tells the API which surface an event came from."""

    key: str
    name: str
    row: str | None = None


@st.cache_data(max_entries=4096, show_spinner=False)
def _svg(url: str, _client: MarqueeClient) -> str:
    # Artwork is deterministic per (title, variant) and the same for everyone: safe to share.
    return _client.artwork_svg(url)


def artwork(client: MarqueeClient, url: str) -> str | None:
    """The SVG text, which st.image embeds as a data URI: the browser never has to reach the API."""
    try:
        return _svg(client.absolute(url), client)
    except ApiError:
        return None


def strip(client: MarqueeClient, cards: Sequence[Card], surface: Surface, *, width: int = CARD_WIDTH) -> None:
    """Cards side by side in one horizontally scrolling line."""
    with st.container(horizontal=True, wrap=False, gap="small", key=f"strip-{surface.key}"):
        for card in cards:
            render(client, card, surface, width=width)


def render(client: MarqueeClient, card: Card, surface: Surface, *, width: int = CARD_WIDTH) -> None:
    key = f"{surface.key}:{card.title_id}"
    with st.container(width=width, border=True, key=f"card-{key}"):
        svg = artwork(client, card.artwork.url)
        if svg is not None:
            st.image(svg, width="stretch", alt=f"{card.name} ({card.artwork.variant} artwork)")
        year = f" ({card.year})" if card.year else ""
        st.markdown(f"**{escape(card.name)}**{escape(year)}")
        if card.explanation:
            st.caption(escape(card.explanation))
        buttons(card, surface, key)


def buttons(card: Card, surface: Surface, key: str) -> None:
    args = (card, surface)
    saved = surface.row == MY_LIST_ROW  # elsewhere a saved title is not shown (the API dedupes a page)
    with st.container(horizontal=True, gap=None, horizontal_alignment="distribute"):
        for action, icon, tip, callback, extra in (
            ("play", "play_arrow", "Play", play, ()),
            ("up", "thumb_up", "I like it", thumb, (True,)),
            ("down", "thumb_down", "Not for me", thumb, (False,)),
            (
                "list",
                *(("bookmark_remove", "Remove from My List") if saved else ("bookmark_add", "My List")),
                my_list,
                (not saved,),
            ),
            ("similar", "layers", "More like this", similar, ()),
            ("details", "info", "Details", details, ()),
        ):
            st.button(
                f":material/{icon}:",
                key=f"{key}:{action}",
                help=tip,
                type="tertiary",
                on_click=callback,
                args=(*args, *extra),
            )


# -- actions -------------------------------------------------------------------------------------


def _event(kind: str, card: Card, surface: Surface, value: float | None = None) -> Event:
    on_home = surface.row is not None  # only homepage rows carry the bandits' row and artwork choice
    return Event(
        kind=kind,
        title_id=card.title_id,
        value=value,
        row=surface.row,
        artwork=card.artwork.variant if on_home else None,
        context={"device": "web", "surface": surface.name},
    )


def _send(events: Sequence[Event]) -> bool:
    client, pid = state.client(), state.profile_id()
    if client is None or pid is None:
        return False
    try:
        client.send_events(pid, events)
    except ApiError as exc:
        state.flash(f"Could not save that: {exc.message}", "error")
        return False
    state.invalidate()
    return True


def play(card: Card, surface: Surface) -> None:
    """A play, and the progress a player would report a moment later: the title is now in progress."""
    started = [_event("play", card, surface), _event("progress", card, surface, START_PROGRESS)]
    if _send(started):
        state.flash(f"Playing {escape(card.name)}: it is in Continue Watching now.")


def thumb(card: Card, surface: Surface, up: bool) -> None:
    if _send([_event("thumb_up" if up else "thumb_down", card, surface)]):
        if up:
            state.flash(f"Liked {escape(card.name)}: more like it on your home screen.")
            return
        state.flash(f"Got it, no more {escape(card.name)}.", "info")
        panel = state.panel()
        if panel is not None and panel.cards:
            kept = tuple(c for c in panel.cards if c.title_id != card.title_id)
            state.set_panel(replace(panel, cards=kept))


def my_list(card: Card, surface: Surface, add: bool) -> None:
    if _send([_event("add_to_list" if add else "remove_from_list", card, surface)]):
        done = "saved to" if add else "removed from"
        state.flash(f"{escape(card.name)} {done} My List.", "success" if add else "info")


def _anchor(surface: Surface) -> str:
    """Where a new panel goes: under the clicked strip, or where the panel clicked in already is."""
    current = state.panel()
    return current.anchor if current is not None and surface.key in PANEL_SURFACES else surface.key


def similar(card: Card, surface: Surface) -> None:
    client, pid = state.client(), state.profile_id()
    if client is None:
        return
    try:
        found = client.similar(card.title_id, profile_id=pid)
    except ApiError as exc:
        state.flash(f"No similar titles: {exc.message}", "error")
        return
    heading = f"More like {escape(card.name)}"
    state.set_panel(state.Panel("similar", heading, _anchor(surface), tuple(found)))


def details(card: Card, surface: Surface) -> None:
    client = state.client()
    if client is None:
        return
    try:
        title = client.title(card.title_id)
    except ApiError as exc:
        state.flash(f"No details: {exc.message}", "error")
        return
    state.set_panel(state.Panel("details", escape(title.name), _anchor(surface), (card,), title))
