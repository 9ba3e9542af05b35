"""The home screen: a search box, the panel a card action opened, and the profile's rows in the API's
order. Impressions for the cards shown go out once per fetched page, with their row and artwork."""

from __future__ import annotations

import uuid

import streamlit as st

from ui import cards, panel, state
from ui.client import ApiError, Card, Event, MarqueeClient, Page


def render(client: MarqueeClient, pid: str, *, query: str, items_per_row: int, device: str) -> None:
    """Search results (for a non-empty `query`), then the rows; a panel opens under its strip."""
    if query:
        results(client, pid, query)
    page, page_id = state.page()
    if page is None or page_id is None:
        try:
            page = client.rows(pid, device=device)
        except ApiError as exc:
            if exc.status == 404:  # the profile is gone (deleted elsewhere): back to the picker
                state.choose_profile(None)
                st.rerun()
            st.error(f"Could not load your rows: {exc.message}")
            return
        page_id = uuid.uuid4().hex
        state.set_page(page, page_id)
    if page.degraded:
        st.info("The ranker is unavailable right now: rows are in candidate order.", icon=":material/info:")
    for row in page.rows:
        st.subheader(row.heading, anchor=False)
        surface = cards.Surface(f"row.{row.id}", "home", row.id)
        cards.strip(client, row.items[:items_per_row], surface)
        panel.below(client, surface.key)
    impressions(client, pid, page, page_id, items_per_row)


def impressions(client: MarqueeClient, pid: str, page: Page, page_id: str, items_per_row: int) -> None:
    """Tell the API what this page showed, once: each card with its row and artwork variant."""
    if state.impressions_sent(page_id):
        return
    shown = [
        Event(
            "impression",
            item.title_id,
            row=row.id,
            artwork=item.artwork.variant,
            context={"device": "web", "position": position},
        )
        for row in page.rows
        for position, item in enumerate(row.items[:items_per_row])
    ]
    if not shown:
        return
    try:
        client.send_events(pid, shown)
    except ApiError as exc:  # not worth interrupting anyone for; the page is already drawn
        st.caption(f"Impressions not recorded: {exc.message}")
        return
    state.mark_impressions_sent(page_id)


def search_box() -> str:
    return st.text_input(
        "Search",
        key="search-q",
        placeholder="Search titles, people, themes…",
        label_visibility="collapsed",
        icon=":material/search:",
    ).strip()


def results(client: MarqueeClient, pid: str, query: str) -> None:
    found = _search(client, pid, query)
    if found is None:
        return
    st.subheader(f"Results for “{cards.escape(query)}”", anchor=False)
    if found:
        cards.strip(client, found, cards.Surface("search", "search"))
        panel.below(client, "search")
    else:
        st.caption("Nothing matches that; try a title, a genre or a mood.")


def _search(client: MarqueeClient, pid: str, query: str) -> list[Card] | None:
    # Kept per (profile, query, version): redrawing the page does not search again; feedback does.
    key = (pid, query, state.version())
    cached = st.session_state.get("search-results")
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        found = client.search(pid, query)
    except ApiError as exc:
        st.error(f"Search failed: {exc.message}")
        return None
    st.session_state["search-results"] = (key, found)
    return found
