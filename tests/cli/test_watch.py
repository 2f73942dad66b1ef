"""`vertaal translate --watch`: files are taken once they stop changing, never half-written."""

import json
import os
import signal
import time
from pathlib import Path

from cli.watch import Arrivals
from tests.cli.test_signals import in_background, nothing_half_written, whole_lines
from tests.conftest import ARTICLES, TinyModels
from tests.processes import wait_for


def test_a_file_is_taken_only_once_it_has_stopped_changing(tmp_path: Path) -> None:
    arrivals = Arrivals(settle=0.3)
    growing = tmp_path / "growing.txt"
    growing.write_text("De NAVO")
    arrivals.saw(growing)
    assert arrivals.settled() == set()
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:  # appended to faster than it settles
        with growing.open("a") as file:
            file.write(" praat")
        assert arrivals.settled() == set()
        time.sleep(0.05)
    assert wait_for(arrivals.settled, 5, "the file to settle") == {growing.resolve()}
    assert arrivals.settled() == set(), "taken once"


def test_a_complete_file_renamed_in_is_taken_at_once(tmp_path: Path) -> None:
    written = tmp_path / ".article.txt.tmp"
    written.write_text("De NAVO praat met Rusland.")
    old = time.time() - 60
    os.utime(written, (old, old))
    written.rename(tmp_path / "article.txt")
    arrivals = Arrivals(settle=30)
    arrivals.saw(tmp_path / "article.txt")
    assert arrivals.settled() == {(tmp_path / "article.txt").resolve()}


def test_a_file_gone_before_it_settles_is_forgotten(tmp_path: Path) -> None:
    arrivals = Arrivals(settle=0.1)
    (tmp_path / "brief.txt").write_text("De NAVO")
    arrivals.saw(tmp_path / "brief.txt")
    (tmp_path / "brief.txt").unlink()
    time.sleep(0.15)
    assert arrivals.settled() == set() and arrivals.files == {}


def index_of(out: Path) -> dict[str, list[dict[str, object]]]:
    lines: dict[str, list[dict[str, object]]] = {}
    for line in whole_lines(out / "index.jsonl"):
        lines.setdefault(Path(str(line["path"])).name, []).append(line)
    return lines


def test_watch_translates_what_lands_slowly_or_atomically(
    tmp_path: Path, tiny_env: TinyModels
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    text = (ARTICLES / "sherman-brussels-talks.txt").read_text()
    (folder / "there.txt").write_text(text)
    args = [str(folder), "--out", str(out), "--watch", "--no-summary"]
    with in_background(args, tmp_path, VERTAAL_WATCH_SETTLE="2") as run:
        wait_for(lambda: "there.txt" in index_of(out), 60, "the initial pass")

        paragraphs = [p for p in (ARTICLES / "nato-russia-council-dialogue.txt").read_text()
                      .split("\n\n") if p.strip()]  # fmt: skip
        with (folder / "slow.txt").open("w") as slow:  # written in pieces, with pauses
            for paragraph in paragraphs:
                slow.write(paragraph + "\n\n")
                slow.flush()
                time.sleep(0.1)
        atomic = folder / ".fast.txt.tmp"
        atomic.write_text(text.replace("Sherman", "Nuland"))
        atomic.rename(folder / "fast.txt")
        (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")

        wanted = {"slow.txt", "fast.txt", "photo.jpg"}
        wait_for(lambda: wanted <= set(index_of(out)), 60, "the files that landed")
        assert run.stop(signal.SIGTERM) == 143, run.stderr.read_text()

    lines = index_of(out)
    assert [line["status"] for line in lines["slow.txt"]] == ["translated"], "taken once"
    source = json.loads((out / "slow.json").read_text())["source"]
    assert len(source["paragraphs"]) == len(paragraphs) - 1, "the whole file (its title aside)"
    assert [line["status"] for line in lines["fast.txt"]] == ["translated"]
    assert [line["status"] for line in lines["photo.jpg"]] == ["ignored"]
    assert len({line["run"] for lines_ in lines.values() for line in lines_}) == 1, "one run"
    assert run.stdout.read_text().strip() == "3 translated, 0 skipped, 0 failed, 1 ignored"
    assert "Stopped by SIGTERM" in run.stderr.read_text()
    # Each article's sentences to check as it ends, and the session's before its summary line.
    squeezed = "".join(run.stderr.read_text().split())
    flags = {name: lines[name][0]["flags"] for name in ("there.txt", "slow.txt", "fast.txt")}
    assert all(f"{name}({n}sentencestocheck)" in squeezed for name, n in flags.items()), flags
    assert f"{sum(flags.values())}sentencestocheckin3articlestranslated" in squeezed
    nothing_half_written(out)
    assert sorted(p.name for p in folder.iterdir()) == [
        "fast.txt", "photo.jpg", "slow.txt", "there.txt",
    ]  # fmt: skip
