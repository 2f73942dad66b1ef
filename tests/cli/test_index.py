"""OUT/index.jsonl: a line per file per run, appended, whole lines only."""

import json
import threading
from pathlib import Path

from cli.folders import find_articles
from cli.index import IndexLine, RunIndex, sentence_count
from tests.cli.test_main import vertaal
from tests.conftest import TinyModels

FIELDS = {
    "path", "status", "reason", "fingerprint", "sentences", "seconds", "outputs", "flags",
    "run", "at",
}  # fmt: skip


def index_lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]


def test_every_run_appends_a_line_per_file(
    news: Path, tmp_path: Path, tiny_env: TinyModels
) -> None:
    out = tmp_path / "out"
    vertaal("translate", str(news), "--out", str(out))
    vertaal("translate", str(news), "--out", str(out))
    lines = index_lines(out)
    assert all(set(line) == FIELDS for line in lines)
    first, second = ({str(line["path"]): line for line in lines if line["run"] == run}
                     for run in dict.fromkeys(line["run"] for line in lines))  # fmt: skip
    assert len(lines) == 10, "five files, two runs"

    article = str(news / "belgie" / "nato-russia-council-dialogue.txt")
    document = json.loads((out / "belgie/nato-russia-council-dialogue.json").read_text())
    translated = first[article]
    assert translated["status"] == "translated" and translated["reason"] is None
    assert translated["fingerprint"] == document["fingerprint"]
    assert translated["sentences"] == sentence_count(document) > 1
    assert translated["outputs"] == [
        "belgie/nato-russia-council-dialogue.en.md",
        "belgie/nato-russia-council-dialogue.json",
    ]
    assert isinstance(translated["seconds"], float) and translated["seconds"] > 0
    assert translated["flags"] == document["checks"]["flagged"] > 0, "random models: flags"
    skipped = second[article]
    assert skipped["status"] == "skipped" and skipped["seconds"] is None
    assert {k: skipped[k] for k in ("fingerprint", "sentences", "outputs", "flags")} == {
        k: translated[k] for k in ("fingerprint", "sentences", "outputs", "flags")
    }

    for run in (first, second):
        assert run[str(news / "empty.txt")]["status"] == "failed"
        assert "holds no article text" in str(run[str(news / "empty.txt")]["reason"])
        assert run[str(news / "empty.txt")]["outputs"] == []
        assert run[str(news / "empty.txt")]["flags"] is None
        assert run[str(news / "notes.pdf")]["status"] == "ignored"
        assert run[str(news / "photo.txt")]["status"] == "failed"


def test_ignored_files_are_counted_and_the_first_few_named(
    tmp_path: Path, tiny_env: TinyModels
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for number in range(7):
        (folder / f"scan-{number}.pdf").write_bytes(b"%PDF-1.4")
    (folder / ".hidden.pdf").write_bytes(b"%PDF-1.4")  # hidden: not looked at, not counted
    (folder / "half.txt.part").write_text("De NAVO")  # still being written: not counted
    result = vertaal("translate", str(folder), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "0 translated, 0 skipped, 0 failed, 7 ignored"
    stderr = " ".join(result.stderr.split())
    assert "scan-4.pdf and 2 more (all in" in stderr and "scan-5.pdf" not in stderr
    assert [line["status"] for line in index_lines(out)] == ["ignored"] * 7


def test_an_index_that_cannot_be_written_stops_the_run_clearly(
    news: Path, tmp_path: Path, tiny_env: TinyModels
) -> None:
    out = tmp_path / "out"
    (out / "index.jsonl").mkdir(parents=True)
    result = vertaal("translate", str(news), "--out", str(out))
    assert result.exit_code == 2
    assert "cannot open the run index" in " ".join(result.stderr.split())


def test_lines_written_at_once_from_many_threads_stay_whole(tmp_path: Path) -> None:
    """--server runs end articles in several threads; a long reason makes a long line."""
    index = RunIndex(tmp_path)
    reason = "x" * 50_000

    def write(worker: int) -> None:
        for _ in range(20):
            index.other(tmp_path / f"{worker}.pdf", "ignored", reason)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    index.close()
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    assert len(lines) == 160
    assert all(IndexLine.model_validate_json(line).reason == reason for line in lines)


def test_a_folder_run_finds_articles_beside_ignored_and_unseen_files(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    for name in ("a.txt", "b.pdf", ".c.txt", "d.txt.tmp", "out/e.json", "out/e.en.md"):
        (tmp_path / name).write_text("De NAVO")
    found = find_articles([tmp_path], tmp_path / "out")
    assert [a.path.name for a in found.articles] == ["a.txt"]
    assert [p.name for p in found.ignored] == ["b.pdf"]
    beside = find_articles([tmp_path / "out"], tmp_path / "out")
    assert beside.articles == [] and beside.ignored == [], "outputs are neither read nor counted"
