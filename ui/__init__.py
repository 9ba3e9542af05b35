"""The Streamlit UI (`ui/app.py`): a client of the HTTP API only; it imports nothing else of Marquee."""
