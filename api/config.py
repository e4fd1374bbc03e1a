"""Settings from QUALTRACK_* environment variables, with safe development defaults."""

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///instance/qualtrack.db"


@dataclass
class Settings:
    """Everything the app reads from its environment, in one place."""

    database_url: str = DEFAULT_DATABASE_URL
    env: str = "development"
    units_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "units")
    default_page_size: int = 50
    max_page_size: int = 500

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        """Build settings from QUALTRACK_DATABASE_URL, QUALTRACK_ENV and QUALTRACK_UNITS_DIR."""
        environ = os.environ if environ is None else environ
        settings = cls()
        settings.database_url = environ.get("QUALTRACK_DATABASE_URL", settings.database_url)
        settings.env = environ.get("QUALTRACK_ENV", settings.env)
        if "QUALTRACK_UNITS_DIR" in environ:
            settings.units_dir = Path(environ["QUALTRACK_UNITS_DIR"])
        return settings
