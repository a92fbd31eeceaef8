"""One typed Settings object, read from SOCIUS_* environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCIUS_", env_file=".env", extra="ignore")

    # Where the embedded PostgreSQL, the secret key and (later) the search index live.
    data_dir: Path = Path("var")
    # Empty means: start a private PostgreSQL in data_dir (see core/embedded.py).
    database_url: str = ""
    # Empty means: generate one and keep it in data_dir/secret_key.
    secret_key: str = ""

    host: str = "127.0.0.1"
    port: int = 8000
    # Set when served over HTTPS so cookies are marked Secure.
    secure_cookies: bool = False
    # The public address, used in links that leave the site (e-mails).
    base_url: str = "http://127.0.0.1:8000"

    log_level: str = "INFO"
    log_json: bool = True

    session_idle_minutes: int = 8 * 60
    session_absolute_hours: int = 7 * 24
    login_max_failures: int = 5
    login_window_minutes: int = 15

    photo_max_bytes: int = 5 * 1024 * 1024
    # Community files: one upload at most, and all the versions of a community's files together.
    file_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    community_file_quota_bytes: int = Field(default=5 * 1024**3, ge=0)
    # Tags one person may give in an hour (to themselves and others): enough for anyone, not for a spammer.
    tag_rate_per_hour: int = 60
    default_locale: str = "zh_Hant"
    # Times are shown in the viewer's own time zone; this one for people who have not set theirs.
    default_time_zone: str = "Asia/Taipei"
    # Profile fields hidden from guests unless their owner decides otherwise.
    guest_hidden_fields: list[str] = Field(default_factory=lambda: ["phone", "location", "manager"])

    db_pool_size: int = 10

    # Outgoing e-mail (notifications). No host: nothing is mailed, and the e-mail jobs say so once in the log.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = "Socius <socius@localhost>"
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # Connections a digest sends over at once, each reused for all its messages.
    smtp_connections: int = Field(default=2, ge=1, le=16)
    smtp_timeout_seconds: float = 30.0

    @cached_property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def get_settings() -> Settings:
    return Settings()
