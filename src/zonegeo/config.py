"""Settings of the whole application, read once from the environment (prefix ZONEGEO_)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zonegeo.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DRIVER = "postgresql+psycopg2"  # the installed PostgreSQL driver
# Schemes meaning PostgreSQL through the installed driver; libpq's and Heroku's plain forms included.
POSTGRES_SCHEMES = {"postgresql": DRIVER, "postgres": DRIVER, DRIVER: DRIVER}
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/]*@")


def _redacted(url: str) -> str:
    return _PASSWORD.sub(r"\1:***@", url)


def normalise_database_url(value: object) -> str:
    """The database URL with the installed driver named; a ConfigError (in Chinese) for anything else."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    setting = "ZONEGEO_DATABASE_URL"
    text = str(value).strip() if value is not None else ""
    match = _SCHEME.match(text)
    if not match:
        raise ConfigError("bad_database_url",
                          "数据库地址无法解析：应形如 postgresql://用户名:密码@主机:端口/数据库名",
                          {"setting": setting, "value": _redacted(text)})
    scheme = match["scheme"].lower()
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigError("unsupported_database_driver",
                          f"不支持的数据库类型或驱动“{match['scheme']}”：本系统只支持 PostgreSQL（PostGIS），"
                          f"地址应以 postgresql:// 或 {DRIVER}:// 开头",
                          {"setting": setting, "value": _redacted(text), "scheme": match["scheme"]})
    normalised = POSTGRES_SCHEMES[scheme] + text[match.end("scheme"):]
    try:
        make_url(normalised)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError("bad_database_url",
                          "数据库地址无法解析：应形如 postgresql://用户名:密码@主机:端口/数据库名",
                          {"setting": setting, "value": _redacted(text), "reason": str(exc)}) from None
    return normalised


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZONEGEO_", env_file=".env", extra="ignore")

    # postgresql:// and postgres:// are accepted and name the installed driver (psycopg2).
    database_url: str = f"{DRIVER}://postgres@127.0.0.1:5432/zonegeo"
    maps_dir: Path = PROJECT_ROOT / "maps"
    rules_file: Path = PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml"
    holidays_dir: Path = PROJECT_ROOT / "data" / "holidays"  # State Council arrangements beyond chinesecalendar
    host: str = "127.0.0.1"
    port: int = 8000
    # The pool and the worker threads are sized together: each request thread can hold one connection, so the
    # threads are pool size + overflow, and a request that finds no connection within db_pool_timeout_s answers
    # 503 database_busy with Retry-After instead of waiting 30 s (SQLAlchemy's default) and failing with a 500.
    db_pool_size: int = 10
    db_max_overflow: int = 5
    db_pool_timeout_s: float = 3.0
    worker_threads: int = 0  # threads for synchronous routes per worker process; 0: pool size + overflow + 8
    # At most pool size + overflow requests at work per process; the others wait in line (first come, first
    # served) at most admission_wait_s, and get 503 server_busy with Retry-After when the line is full or slow.
    admission_wait_s: float = 10.0
    admission_queue: int = 1000
    workers: int = 1  # uvicorn worker processes (`zonegeo serve`, scripts/demo, Docker): ZONEGEO_WORKERS
    max_upload_mb: int = 50  # one uploaded file
    max_attachment_mb: int = 20  # one application material (申报材料)
    max_request_mb: int = 210  # one request body (an upload of several files); checked before it is read
    public_cache_ttl_s: float = 1.0  # how long the public state (newest audit id) is trusted; 0: read per request
    public_cache_mb: int = 64  # memory for cached anonymous responses, per process
    # The work one upload may cause (README, "Limits"): counts checked before the work they bound, and the parse
    # run in a child process that the kernel stops past its CPU time or memory, and the server past its wall time.
    max_table_rows: int = 20_000  # rows of one CSV/XLSX table (institutions, boundary points)
    max_cell_chars: int = 10_000  # characters of one table cell
    max_features: int = 50_000  # features of one layer
    max_vertices: int = 2_000_000  # vertices of one layer
    max_repair_vertices: int = 100_000  # vertices of one invalid polygon that automatic repair may work on
    ingest_cpu_seconds: int = 30
    ingest_wall_seconds: float = 60.0
    ingest_memory_mb: int = 2048  # memory the parse may add to what the loaded libraries take
    upload_temp_max_age_s: int = 900  # temporary folders of uploads older than this are removed (start-up, uploads)
    secret_key: str = ""  # signs web sessions; empty: a new random key at every start (everyone logs in again)
    cookie_secure: bool = False  # set behind HTTPS so the session cookie is never sent in clear
    # Base map tiles; empty string renders maps with no base layer (e.g. on an isolated network).
    tiles: str = "OpenStreetMap"
    tianditu_key: str = ""  # 天地图 token: adds its vector and imagery base maps
    # Objections filed on the public 公示 page (services/notices.py): at most this many per client address per
    # hour, and one optional attachment (PDF, JPEG or PNG) of at most this size.
    public_objections_per_hour: int = 5
    public_objection_max_kb: int = 2048
    # Geocoding the address (地址) of uploaded institutions that have neither coordinates nor a 楼栋 of the layout
    # (services/geocoder.py): the 天地图 geocoder when tianditu_key is set, or this URL when given (a service that
    # answers like 天地图's). Bounded per upload: rows, seconds per request, seconds in all; the point must lie within
    # geocoder_max_distance_m of the zone's boundary. A geocoded point is shown to the applicant for confirmation.
    geocoder_url: str = ""  # ZONEGEO_GEOCODER_URL; empty: https://api.tianditu.gov.cn/geocoder if tianditu_key
    geocoder_max_rows: int = 50
    geocoder_timeout_s: float = 5.0
    geocoder_budget_s: float = 20.0
    geocoder_max_distance_m: float = 5000.0
    # The Chinese font embedded (as a subset) in the printable PDFs: a .ttf/.ttc/.otf file (a collection: its first
    # face). Empty: the first of pdf/fonts.py's system fonts found (fonts-wqy-microhei, fonts-noto-cjk …).
    pdf_font: str = ""  # ZONEGEO_PDF_FONT
    # The 设区市 boundaries (a vector file: one polygon per city, its name in 名称/name) the cross-zone check compares
    # each zone with (ingest/city_boundaries.py). The project ships none: the bureau supplies a file it may use.
    city_boundaries: str = ""  # ZONEGEO_CITY_BOUNDARIES

    # A ConfigError is not a ValueError, so pydantic lets it through unwrapped: the CLI and the API print
    # its Chinese message instead of a ValidationError traceback.
    _check_database_url = field_validator("database_url", mode="before")(normalise_database_url)
