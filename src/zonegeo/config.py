"""Settings of the whole application, read once from the environment (prefix ZONEGEO_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZONEGEO_", env_file=".env", extra="ignore")

    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/zonegeo"
    maps_dir: Path = PROJECT_ROOT / "maps"
    rules_file: Path = PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml"
    holidays_dir: Path = PROJECT_ROOT / "data" / "holidays"  # State Council arrangements beyond chinesecalendar
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 5
    max_upload_mb: int = 50  # one uploaded file
    max_attachment_mb: int = 20  # one application material (申报材料)
    secret_key: str = ""  # signs web sessions; empty: a new random key at every start (everyone logs in again)
    cookie_secure: bool = False  # set behind HTTPS so the session cookie is never sent in clear
    # Base map tiles; empty string renders maps with no base layer (e.g. on an isolated network).
    tiles: str = "OpenStreetMap"
    tianditu_key: str = ""  # 天地图 token: adds its vector and imagery base maps


def get_settings() -> Settings:
    return Settings()
