"""Group commit in the single writer (`Database.run_write`): commands waiting together share
one transaction and one COMMIT, each in its own savepoint, each answered only after the
commit. Real SQLite files, real threads; batching is forced with events, never with timing."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from edge_server.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(tmp_path / "site.db")
    with database.write() as w:
        w.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
        w.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        w.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
            "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    yield database
    database.close()


def insert(v: str) -> Any:
    def fn(w: Any) -> int:
        return int(w.execute("INSERT INTO t (v) VALUES (?)", [v]).lastrowid)

    return fn


def rows(db: Database) -> list[str]:
    """What a fresh connection sees: only committed data."""
    conn = sqlite3.connect(db.path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT v FROM t"))
    finally:
        conn.close()


class Held:
    """The first command of a test holds the writer until released, so the commands started
    meanwhile queue up and go together in the next batch."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.inside = threading.Event()
        self.release = threading.Event()

    def fn(self, w: Any) -> str:
        w.execute("INSERT INTO t (v) VALUES ('held')")
        self.inside.set()
        assert self.release.wait(10)
        return "held"


def run_threads(
    db: Database, fns: list[Any], setup: Any = None
) -> tuple[list[Any], list[BaseException | None]]:
    """Each fn on its own thread; a `Held` first fn makes all the others one batch."""
    results: list[Any] = [None] * len(fns)
    errors: list[BaseException | None] = [None] * len(fns)

    def worker(i: int) -> None:
        if setup is not None:
            setup(i)
        try:
            results[i] = db.run_write(fns[i])
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(fns))]
    held = next((f.__self__ for f in fns if isinstance(getattr(f, "__self__", None), Held)), None)
    threads[0].start()
    if held is not None:
        assert held.inside.wait(10)
    for t in threads[1:]:
        t.start()
    if held is not None:
        for _ in range(1000):
            if db.waiting == len(fns) - 1:
                break
            threading.Event().wait(0.01)
        assert db.waiting == len(fns) - 1
        held.release.set()
    for t in threads:
        t.join(20)
        assert not t.is_alive()
    return results, errors


def test_waiting_commands_share_one_commit_and_each_gets_its_own_answer(db: Database) -> None:
    held = Held(db)
    before = db.batches
    fns = [held.fn, *(insert(f"v{i}") for i in range(20))]
    results, errors = run_threads(db, fns)
    assert errors == [None] * 21
    assert results[0] == "held"
    assert sorted(results[1:]) == sorted(set(results[1:]))  # each its own row id
    assert rows(db) == sorted(["held", *(f"v{i}" for i in range(20))])
    # the held command's batch, then ONE batch for the twenty that waited
    assert db.batches - before == 2


def test_a_failing_command_rolls_back_only_its_own_work(db: Database) -> None:
    held = Held(db)

    def fails(w: Any) -> None:
        w.execute("INSERT INTO t (v) VALUES ('doomed')")
        raise ValueError("refused")

    def duplicate(w: Any) -> None:
        w.execute("INSERT INTO t (v) VALUES ('a')")  # 'a' is inserted by another command

    fns = [held.fn, insert("a"), fails, insert("b"), duplicate, insert("c")]
    _results, errors = run_threads(db, fns)
    assert isinstance(errors[2], ValueError)
    assert isinstance(errors[4], sqlite3.IntegrityError)
    assert [e for i, e in enumerate(errors) if i not in (2, 4)] == [None] * 4
    assert rows(db) == ["a", "b", "c", "held"]


def test_a_failed_commit_fails_every_command_of_the_batch_and_writes_nothing(
    db: Database,
) -> None:
    held = Held(db)

    def orphan(w: Any) -> str:  # a deferred foreign key fails only at COMMIT
        w.execute("INSERT INTO child (parent_id) VALUES (999)")
        return "orphan"

    fns = [held.fn, insert("x"), orphan, insert("y")]
    results, errors = run_threads(db, fns)
    assert errors[0] is None  # the held command committed in its own batch
    assert all(isinstance(e, sqlite3.IntegrityError) for e in errors[1:])
    assert results[1:] == [None, None, None]
    assert rows(db) == ["held"]
    assert not db._write_conn.in_transaction
    assert db.run_write(insert("after")) and rows(db) == ["after", "held"]


def test_the_answer_comes_after_the_commit(db: Database) -> None:
    seen_inside: list[list[str]] = []

    def fn(w: Any) -> None:
        w.execute("INSERT INTO t (v) VALUES ('durable')")
        seen_inside.append(rows(db))

    db.run_write(fn)
    assert seen_inside == [[]]  # not visible to others while the command ran
    assert rows(db) == ["durable"]  # visible to everyone once it answered


def test_reads_inside_a_command_see_the_batch_so_far(db: Database) -> None:
    held = Held(db)

    def count(w: Any) -> int:
        return int(db.query_one("SELECT count(*) AS n FROM t")["n"])  # type: ignore[index]

    fns = [held.fn, insert("a"), count]
    results, errors = run_threads(db, fns)
    assert errors == [None, None, None]
    assert results[2] == 2  # 'held' (committed) and 'a' (same batch, not yet committed)
    assert db.query_one("SELECT count(*) AS n FROM t") == {"n": 2}  # plain reader again


def test_nested_use_joins_the_open_transaction(db: Database) -> None:
    def outer(w: Any) -> int:
        w.execute("INSERT INTO t (v) VALUES ('outer')")
        return db.run_write(insert("inner"))

    with pytest.raises(RuntimeError), db.write():
        db.run_write(insert("rolled back with its outer transaction"))
        raise RuntimeError
    assert db.run_write(outer) > 0
    assert rows(db) == ["inner", "outer"]


def test_the_command_runs_in_its_callers_context(db: Database) -> None:
    who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")
    names = ["held", "ann", "bob"]

    def whoami(w: Any) -> str:
        return who.get()

    held = Held(db)
    results, errors = run_threads(db, [held.fn, whoami, whoami], setup=lambda i: who.set(names[i]))
    assert errors == [None, None, None]
    assert results[1:] == ["ann", "bob"]  # run by the batch's leader, in each caller's context


def test_commit_hooks_run_once_per_batch(db: Database) -> None:
    calls: list[int] = []
    db.on_commit(lambda: calls.append(1))
    held = Held(db)
    run_threads(db, [held.fn, *(insert(f"h{i}") for i in range(5))])
    assert len(calls) == 2


def test_async_callers_share_commits_with_threads_and_get_their_own_answers(db: Database):
    import asyncio

    held = Held(db)
    holder = threading.Thread(target=lambda: db.run_write(held.fn))
    holder.start()
    assert held.inside.wait(10)

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(db.run_write_async(insert(f"a{i}"))) for i in range(10)]

        def fails(w: Any) -> None:
            w.execute("INSERT INTO t (v) VALUES ('never')")
            raise ValueError("refused")

        tasks.append(asyncio.ensure_future(db.run_write_async(fails)))
        for _ in range(1000):  # all eleven wait behind the held command
            if db.waiting == 11:
                break
            await asyncio.sleep(0.01)
        assert db.waiting == 11
        held.release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    before = db.batches
    results = asyncio.run(main())
    holder.join(10)
    assert all(isinstance(r, int) for r in results[:10]) and len(set(results[:10])) == 10
    assert isinstance(results[10], ValueError)
    assert rows(db) == sorted(["held", *(f"a{i}" for i in range(10))])
    assert db.batches - before == 2  # the held command's, then one for the eleven


def test_an_async_caller_that_goes_away_does_not_stop_its_command(db: Database):
    import asyncio

    held = Held(db)
    holder = threading.Thread(target=lambda: db.run_write(held.fn))
    holder.start()
    assert held.inside.wait(10)

    async def main() -> None:
        task = asyncio.ensure_future(db.run_write_async(insert("orphan")))
        for _ in range(1000):
            if db.waiting == 1:
                break
            await asyncio.sleep(0.01)
        task.cancel()  # e.g. the handheld's connection dropped
        held.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    holder.join(10)
    for _ in range(1000):  # the command was queued: it commits all the same
        if "orphan" in rows(db):
            break
        threading.Event().wait(0.01)
    assert rows(db) == ["held", "orphan"]
    assert db.run_write(insert("next")) > 0  # and the writer is free again
