"""Reading uploaded files in a child process with a budget: CPU seconds, wall-clock seconds and memory.

Every check before parsing (sizes, zip directories, row, feature and vertex counts, GeoPackage catalogue) bounds
the work we can foresee; GDAL, GEOS and PROJ can still meet inputs whose cost nobody foresaw. So the parse of an
upload runs in a fresh process (forked from a forkserver that has already imported the readers, so a start costs
milliseconds, not the second of importing GDAL) whose limits the kernel enforces (RLIMIT_CPU, RLIMIT_AS), and
which the server kills at the wall-clock limit. A fresh process per upload also returns all its memory to the
system when it ends (the review saw 1.7 GB kept by the server after one large CSV)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import re
import resource
import signal
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from zonegeo.errors import InputError, InternalError

log = logging.getLogger("zonegeo.ingest")
_CONTEXT: Any = None
# How C libraries report a failed allocation under the memory limit (PROJ/SQLite, GDAL, C++).
_OUT_OF_MEMORY = re.compile(r"out of memory|cannot allocate|bad_alloc|MemoryError", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    cpu_seconds: int = 30  # CPU time of the parse (SIGXCPU past it)
    wall_seconds: float = 60.0  # killed past it, whatever it is waiting for
    memory_mb: int = 2048  # address space the parse may add to what the loaded libraries already take


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        ctx = mp.get_context("forkserver")
        # "__main__" too: the server's main module is imported once in the forkserver, not in every child
        # (like any multiprocessing program, a main script must guard its work with `if __name__ == "__main__"`).
        ctx.set_forkserver_preload(["__main__", "zonegeo.ingest.plan"])
        _CONTEXT = ctx
    return _CONTEXT


def _address_space_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def _child(conn: Connection, items: list, budget: Budget, workdir: str) -> None:
    from zonegeo.ingest.plan import read_roles

    resource.setrlimit(resource.RLIMIT_CPU, (budget.cpu_seconds, budget.cpu_seconds + 2))
    # The budget is memory the parse may add: the libraries already mapped (GDAL, PROJ, numpy's thread buffers,
    # which grow with the machine's cores) are not counted against it.
    memory = _address_space_bytes() + budget.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    tempfile.tempdir = workdir  # unpacked archives live in the upload's folder, removed with it even if killed
    try:
        result: tuple = ("ok", read_roles(items))
    except MemoryError:
        result = ("memory",)
    except InputError as exc:  # a library's "out of memory", translated at the edge like any of its errors
        result = ("memory",) if _OUT_OF_MEMORY.search(exc.message) else ("input", exc.code, exc.message, exc.detail)
    except Exception as exc:  # out of memory in a library (PROJ, SQLite, GDAL say so in words), or a reader's bug
        import traceback

        text = "".join(traceback.format_exception(exc))
        result = ("memory",) if _OUT_OF_MEMORY.search(text) else ("crash", text[-4000:])
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory",))
    conn.close()


def _over_budget(names: str, what: str, budget: Budget) -> InputError:
    return InputError("ingest_budget_exceeded",
                      f"{names}：解析{what}，超过每次上传的处理上限（CPU {budget.cpu_seconds} 秒、"
                      f"用时 {budget.wall_seconds:.0f} 秒、内存 {budget.memory_mb} MB）；请简化或拆分文件后重新上传",
                      {"files": names.split("、"), "cpu_seconds": budget.cpu_seconds,
                       "wall_seconds": budget.wall_seconds, "memory_mb": budget.memory_mb})


def read_roles_bounded(items: list, budget: Budget, workdir: Path) -> dict:
    """``plan.read_roles(items)`` in a child process within ``budget``; the same results and InputErrors."""
    names = "、".join(options.name or Path(path).name for _, path, options in items) or "上传的文件"
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, items, budget, str(workdir)), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(budget.wall_seconds):
            raise _over_budget(names, "用时过长", budget)
        try:
            result = parent.recv()
        except EOFError:  # ended without an answer
            process.join(5)
            log.warning("ingest child ended with %s", process.exitcode)
            if process.exitcode in (-signal.SIGXCPU, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
                # the CPU limit, the kernel's OOM killer, or a library that could not allocate
                raise _over_budget(names, "占用CPU或内存过多", budget) from None
            raise InternalError("ingest_failed", "读取文件时系统出错，未保存任何内容；请联系管理员（请提供请求编号）",
                                {}) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    kind = result[0]
    if kind == "ok":
        return result[1]
    if kind == "input":
        raise InputError(result[1], result[2], result[3])
    if kind == "memory":
        raise _over_budget(names, "占用内存过多", budget)
    log.error("reading %s failed in the ingest process:\n%s", names, result[1])
    raise InternalError("ingest_failed", "读取文件时系统出错，未保存任何内容；请联系管理员（请提供请求编号）", {})
