"""\"Who's watching?\": pick or create a profile; a new one is onboarded with a few genres and titles."""

from __future__ import annotations

import streamlit as st

from ui import cards, state
from ui.client import ApiError, Card, MarqueeClient

MATURITY = ("", "G", "PG", "PG-13", "R", "NC-17")  # "" is no limit
ONBOARDING_TITLES = 18  # popular titles offered to a new profile to pick from
GENRE_SAMPLE = 100  # titles whose genres are offered (the API has no list of genres)


def picker(client: MarqueeClient) -> None:
    st.title("Who's watching?", anchor=False)
    try:
        profiles = client.profiles()
    except ApiError as exc:
        st.error(f"Could not list profiles: {exc.message}")
        return
    if profiles:
        with st.container(horizontal=True, gap="medium"):
            for p in profiles:
                limit = f" · {p.maturity_limit}" if p.maturity_limit else ""
                st.button(
                    f"**{cards.escape(p.name)}**{limit}",
                    key=f"profile-{p.id}",
                    icon=":material/account_circle:",
                    on_click=state.choose_profile,
                    args=(p.id, p.name),
                )
    else:
        st.caption("No profiles yet on this account: add one to start.")
    with st.form("new-profile", clear_on_submit=True, border=True):
        st.markdown("**Add a profile**")
        name = st.text_input("Name", key="new-profile-name", max_chars=64)
        maturity = st.selectbox(
            "Maturity limit",
            MATURITY,
            key="new-profile-maturity",
            format_func=lambda m: m or "No limit",
        )
        if st.form_submit_button("Create profile", type="primary"):
            _create(client, name.strip(), maturity or None)


def _create(client: MarqueeClient, name: str, maturity: str | None) -> None:
    if not name:
        st.warning("Give the profile a name.")
        return
    try:
        profile = client.create_profile(name, maturity_limit=maturity)
    except ApiError as exc:
        st.error(f"Could not create the profile: {exc.message}")
        return
    state.choose_profile(profile.id, profile.name, onboarding=True)
    st.rerun()


def _candidates(client: MarqueeClient, pid: str) -> tuple[list[str], list[Card]]:
    """The genres to offer and the titles to pick from: the genres of the profile's first (so, for a new
    profile, popular and diverse) 100 recommendations, and the first of those titles."""
    cached = st.session_state.get("onboarding-candidates")
    if cached is not None and cached[0] == pid:
        return cached[1], cached[2]
    picks = client.recommendations(pid, k=GENRE_SAMPLE)
    genres = sorted({g for c in picks for g in c.genres})
    st.session_state["onboarding-candidates"] = (pid, genres, picks[:ONBOARDING_TITLES])
    return genres, picks[:ONBOARDING_TITLES]


def onboarding(client: MarqueeClient, pid: str) -> None:
    st.title("What do you like?", anchor=False)
    st.caption("Pick a few genres and titles: your home screen is built from them right away.")
    try:
        genres, offered = _candidates(client, pid)
    except ApiError as exc:
        st.error(f"Could not load titles to pick from: {exc.message}")
        genres, offered = [], []
    chosen_genres = st.pills("Genres", genres, selection_mode="multi", key="onboarding-genres")
    st.markdown("**Titles you enjoyed**")
    chosen_titles: list[int] = []
    with st.container(horizontal=True, gap="small"):
        for card in offered:
            with st.container(width=cards.CARD_WIDTH - 40, border=True):
                svg = cards.artwork(client, card.artwork.url)
                if svg is not None:
                    st.image(svg, width="stretch")
                label = f"{card.name} ({card.year})" if card.year else card.name
                if st.checkbox(cards.escape(label), key=f"onboarding-title-{card.title_id}"):
                    chosen_titles.append(card.title_id)
    go, skip = st.columns([1, 5])
    if go.button("Continue", key="onboarding-done", type="primary"):
        if not chosen_genres and not chosen_titles:
            st.warning("Pick at least one genre or title, or skip for now.")
            return
        try:
            liked = client.onboarding(pid, genres=chosen_genres, titles=chosen_titles)
        except ApiError as exc:
            st.error(f"Could not save your picks: {exc.message}")
            return
        state.choose_profile(pid)
        state.flash(f"Your home screen is built from {len(liked)} titles you like.")
        st.rerun()
    if skip.button("Skip for now", key="onboarding-skip"):
        state.choose_profile(pid)
        st.rerun()
