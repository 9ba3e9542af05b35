"""The panel a card opens in place, under its strip: more like a title, or the title's details."""

from __future__ import annotations

import streamlit as st

from ui import cards, state
from ui.client import MarqueeClient


def below(client: MarqueeClient, anchor: str, *, narrow: bool = False) -> None:
    """Draw the open panel here if it was opened from the strip keyed `anchor`."""
    current = state.panel()
    if current is None or current.anchor != anchor:
        return
    with st.container(border=True, key="panel"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.subheader(current.heading, anchor=False)
            st.button(
                ":material/close:", key="panel-close", help="Close", on_click=state.set_panel, args=(None,)
            )
        if current.kind == "details" and current.details is not None:
            details(client, current, narrow=narrow)
        elif current.cards:
            width = cards.NARROW_CARD_WIDTH if narrow else cards.CARD_WIDTH
            cards.strip(client, current.cards, cards.Surface("similar", "similar"), width=width)
        else:
            st.caption("Nothing similar that you have not seen.")


def details(client: MarqueeClient, current: state.Panel, *, narrow: bool) -> None:
    title = current.details
    art, text = st.columns([1, 1] if narrow else [1, 3])
    with art:
        svg = cards.artwork(client, title.artwork[0].url) if title.artwork else None
        if svg is not None:
            st.image(svg, width="stretch" if narrow else 220)
    with text:
        facts = [str(title.year) if title.year else None, title.maturity]
        facts.append(f"{title.runtime} min" if title.runtime else None)
        facts.append(", ".join(title.genres) or None)
        st.markdown(cards.escape(" · ".join(f for f in facts if f)))
        if title.overview and not narrow:
            st.write(cards.escape(title.overview))
        if title.directors:
            st.caption("Directed by " + cards.escape(", ".join(title.directors)))
        if title.cast:
            st.caption("Starring " + cards.escape(", ".join(title.cast)))
        if current.cards:
            with st.container(width=cards.CARD_WIDTH - 30):
                cards.buttons(current.cards[0], cards.Surface("details", "details"), "details")
    if title.overview and narrow:
        st.write(cards.escape(title.overview))
