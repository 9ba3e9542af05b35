"""The UI's settings: where the API is and which key to use (env `MARQUEE_UI__*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "http://127.0.0.1:8000"


class UiSettings(BaseSettings):
    """`MARQUEE_UI__API_URL`, `MARQUEE_UI__API_KEY`, ... ; the sidebar can override both per session."""

    model_config = SettingsConfigDict(env_prefix="MARQUEE_UI__", extra="ignore")

    api_url: str = DEFAULT_API_URL
    api_key: SecretStr | None = Field(None, description="unset: the UI creates an account per session")
    items_per_row: int = Field(10, ge=1, le=100, description="cards shown in each homepage row")
    timeout_s: float = Field(60.0, gt=0, description="per API request; a chat turn can take a while")
    device: str = "web"
