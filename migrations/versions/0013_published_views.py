"""Published views for OGC API Features: only what the public may see, one geometry column per view (issue 14).

The public's policy is ``services/disclosure.py``; these views say the same in SQL, and a test compares the two:

- zones that are published and not revoked (``PUBLIC_HIDDEN_STATES``), with their approved layout only (never a
  draft, a submitted, superseded or withdrawn version); a zone with no approved layout shows nothing at all;
- institutions and platforms of those zones that have not left (``left_on IS NULL``), with the credit code as the
  public sees it (``published_credit_code``: a natural person's 92… code and an invalid code become ``''``);
- public attributes only: no address, no uploader or decider, no notes, no warnings.

Geometry is stored in CGCS2000 (EPSG:4490, lon/lat). The views label it SRID 4326, which the project takes as equal
(PROJ's transformation between the two is the null "ballpark" one): pygeoapi serves a storage CRS of CRS84 with
lon/lat axes, builds its bbox envelope in that SRID, and converts to EPSG:4490 (lat/lon) and EPSG:4549 on request.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OWNER_ROLE = "zonegeo_owner"
APP_ROLE = "zonegeo_app"
# Frozen copies (a migration must not change when the code does); tests/test_ogc_views.py compares them with
# domain.lifecycle.PUBLIC_HIDDEN_STATES, domain.credit_code and domain.model.InstitutionKind.
HIDDEN_STATES = ("revoked",)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AUTHORITY_TYPES = {
    "1": "1239", "2": "19", "3": "1234589", "4": "19", "5": "12349", "6": "129",
    "7": "1239", "8": "19", "9": "123", "A": "19", "G": "12", "J": "129", "N": "12349", "Y": "1",
}
PLATFORM_LABELS = {"protection_center": "知识产权保护中心", "rapid_rights_center": "快速维权中心",
                   "service_window": "知识产权业务窗口"}
# Python's str.split() whitespace, which domain.credit_code.normalize removes
WHITESPACE = r"[[:space:]\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u001c-\u001f]"

VIEWS = ("published_zones", "published_core_areas", "published_buildings", "published_institutions",
         "published_platforms")


def _sql_list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _credit_code_function() -> str:
    prefixes = sorted(a + t for a, types in AUTHORITY_TYPES.items() for t in types)
    return f"""
        CREATE FUNCTION published_credit_code(code text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
        DECLARE
            c text := upper(regexp_replace(coalesce(code, ''), '{WHITESPACE}', '', 'g'));
            weights constant int[] := ARRAY[{", ".join(map(str, WEIGHTS))}];
            total int := 0;
            v int;
        BEGIN
            -- GB 32100-2015 as domain/credit_code.py checks it; 92… is a 个体工商户, a natural person
            IF length(c) <> 18 OR c LIKE '92%' OR substr(c, 3, 6) !~ '^[0-9]{{6}}$'
               OR substr(c, 1, 2) <> ALL (ARRAY[{_sql_list(prefixes)}]) THEN
                RETURN '';
            END IF;
            FOR i IN 1..17 LOOP
                v := strpos('{ALPHABET}', substr(c, i, 1)) - 1;
                IF v < 0 THEN RETURN ''; END IF;
                total := total + v * weights[i];
            END LOOP;
            IF strpos('{ALPHABET}', substr(c, 18, 1)) - 1 <> (31 - total % 31) % 31 THEN
                RETURN '';
            END IF;
            RETURN code;
        END $$"""


# The zones the public sees, each with its approved layout (at most one per zone: uq_zone_version_one_approved).
PUBLIC_LAYOUT = f"""
    FROM zone z JOIN zone_version v ON v.zone_id = z.id AND v.state = 'approved'
    WHERE z.published AND z.status NOT IN ({_sql_list(HIDDEN_STATES)})"""
PUBLIC_MEMBERS = f"""
    FROM institution i JOIN zone z ON z.id = i.zone_id
    WHERE z.published AND z.status NOT IN ({_sql_list(HIDDEN_STATES)}) AND i.left_on IS NULL
      AND EXISTS (SELECT 1 FROM zone_version v WHERE v.zone_id = z.id AND v.state = 'approved')"""


def _platform_label() -> str:
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in PLATFORM_LABELS.items())
    return f"CASE i.kind {cases} ELSE coalesce(nullif(i.kind_label, ''), '其他公共服务平台') END"


def _views() -> dict[str, str]:
    return {
        "published_zones": f"""
            SELECT z.id AS fid, z.code, z.name, z.city, z.builder, z.operator, z.status,
                   v.number AS version, v.effective_on,
                   ST_SetSRID(v.boundary, 4326)::geometry(MultiPolygon, 4326) AS geom {PUBLIC_LAYOUT}""",
        "published_core_areas": f"""
            SELECT z.id AS fid, z.code AS zone_code, z.name AS zone_name, v.number AS version, v.effective_on,
                   ST_SetSRID(v.core, 4326)::geometry(MultiPolygon, 4326) AS geom {PUBLIC_LAYOUT}
              AND v.core IS NOT NULL""",
        "published_buildings": f"""
            SELECT b.id AS fid, z.code AS zone_code, z.name AS zone_name, v.number AS version, v.effective_on,
                   b.name, b.floors, b.floors_used, b.declared_floor_area_m2,
                   ST_SetSRID(b.footprint, 4326)::geometry(MultiPolygon, 4326) AS geom
            FROM building b JOIN zone_version v ON v.id = b.version_id AND v.state = 'approved'
            JOIN zone z ON z.id = v.zone_id
            WHERE z.published AND z.status NOT IN ({_sql_list(HIDDEN_STATES)})""",
        "published_institutions": f"""
            SELECT i.id AS fid, z.code AS zone_code, z.name AS zone_name, i.name,
                   published_credit_code(i.credit_code) AS credit_code,
                   array_to_string(i.services, '、') AS services,
                   array_to_string(i.chain || i.chain_other, '、') AS chain,
                   i.building, i.floor, i.entered_on,
                   ST_SetSRID(i.location, 4326)::geometry(Point, 4326) AS geom {PUBLIC_MEMBERS}
              AND i.kind = 'institution'""",
        "published_platforms": f"""
            SELECT i.id AS fid, z.code AS zone_code, z.name AS zone_name, i.name,
                   published_credit_code(i.credit_code) AS credit_code, i.kind, {_platform_label()} AS kind_label,
                   array_to_string(i.services, '、') AS services, i.building, i.floor, i.entered_on,
                   ST_SetSRID(i.location, 4326)::geometry(Point, 4326) AS geom {PUBLIC_MEMBERS}
              AND i.kind <> 'institution'""",
    }


def upgrade() -> None:
    op.execute(_credit_code_function())
    op.execute(f"ALTER FUNCTION published_credit_code(text) OWNER TO {OWNER_ROLE}")
    for name, body in _views().items():
        op.execute(f"CREATE VIEW {name} AS {body}")
        # owned like the tables (0006); the default privileges gave the app role DML too: reading is all it needs
        op.execute(f"ALTER VIEW {name} OWNER TO {OWNER_ROLE}")
        op.execute(f"REVOKE ALL ON {name} FROM {APP_ROLE}")
        op.execute(f"GRANT SELECT ON {name} TO {APP_ROLE}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS published_credit_code(text)")
