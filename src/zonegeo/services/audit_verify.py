"""Checking the audit log's hash chain: every row's hash recomputed from its stored values, every row linked to the
one before it. Finds rows changed, removed or slipped in by anyone who got past the database's own refusals (a
superuser); with an anchor (a head id and hash written down earlier) a rewrite of the whole chain too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from zonegeo.errors import InputError

GENESIS = "0" * 64
# The same canonical text as the trigger audit_log_chain (migration 0006): PostgreSQL's built-in jsonb rendering.
_ROWS = text("""
    SELECT id, prev_hash, row_hash,
           jsonb_build_array(id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, role,
                             action, object, before, after, prev_hash)::text AS canonical
    FROM audit_log ORDER BY id""")


@dataclass
class ChainReport:
    rows: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "rows": self.rows, "head": {"id": self.head_id, "hash": self.head_hash},
                "problems": self.problems}


def parse_anchor(value: str) -> tuple[int, str]:
    """``ID:HASH`` as printed by an earlier ``zonegeo audit verify``."""
    number, _, digest = value.partition(":")
    if not number.strip().isdigit() or len(digest.strip()) != 64:
        raise InputError("bad_anchor", "锚点格式应为“编号:64位哈希”，即此前 zonegeo audit verify 输出的链头",
                         {"anchor": value})
    return int(number), digest.strip().lower()


def verify_chain(*, session: Session, anchor: tuple[int, str] | None = None) -> ChainReport:
    report = ChainReport()
    expected_prev, anchor_seen = GENESIS, False
    for row in session.execute(_ROWS).yield_per(2000):
        report.rows += 1
        computed = hashlib.sha256(row.canonical.encode("utf-8")).hexdigest()
        if row.prev_hash != expected_prev:
            report.problems.append({"id": row.id, "kind": "chain_broken",
                                    "message": f"第{row.id}条记录与前一条记录的哈希链接不上：其前面的记录被删除、插入或改写"})
        if computed != row.row_hash:
            report.problems.append({"id": row.id, "kind": "row_changed",
                                    "message": f"第{row.id}条记录的内容与其哈希不符：写入后被改写"})
        if anchor is not None and row.id == anchor[0]:
            anchor_seen = True
            if row.row_hash != anchor[1]:
                report.problems.append({"id": row.id, "kind": "anchor_mismatch",
                                        "message": f"第{row.id}条记录的哈希与此前记下的锚点不同：日志被整体重写"})
        expected_prev = row.row_hash
        report.head_id, report.head_hash = row.id, row.row_hash
    if anchor is not None and not anchor_seen:
        report.problems.append({"id": anchor[0], "kind": "anchor_missing",
                                "message": f"此前记下的锚点第{anchor[0]}条记录已不存在：日志被截断或重写"})
    return report
