import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import batch
from cli.main import main
from tests.conftest import ARTICLES, TinyModels
from workers.engines.loading import resolve_model

ENGLISH = (
    "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the "
    "talks ended without any agreement on the troops gathered near the Ukrainian border."
)


def vertaal(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def outputs(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_folder_with_good_empty_and_binary_files(
    news: Path, tmp_path: Path, tiny_env: TinyModels
) -> None:
    out = tmp_path / "out"
    result = vertaal("translate", str(news), "--out", str(out))
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "2 translated, 0 skipped, 2 failed, 1 ignored"
    stderr = " ".join(result.stderr.split())
    assert "empty.txt holds no article text" in stderr
    assert "photo.txt is not UTF-8 text" in stderr and "looks like binary data" in stderr
    assert "convert it to .txt" not in stderr, "advice that does not fit a .txt file"
    assert f"ignored (not an article type Vertaal reads): {news / 'notes.pdf'}" in stderr
    assert outputs(out) == [
        "belgie/nato-russia-council-dialogue.en.md",
        "belgie/nato-russia-council-dialogue.json",
        "index.jsonl",
        "sherman-brussels-talks.en.md",
        "sherman-brussels-talks.json",
    ]
    data = json.loads((out / "belgie/nato-russia-council-dialogue.json").read_text())
    assert set(data) == {
        "source",
        "translation",
        "summary",
        "removed",
        "models",
        "timings",
        "markup",
        "checks",
        "fingerprint",
    }
    assert data["source"]["date"] == "2022-01"
    assert [len(p) for p in data["translation"]["paragraphs"]] == [
        len(p) for p in data["source"]["paragraphs"]
    ]
    assert data["models"] == {  # named by folder and fingerprint, never by path
        "translation": resolve_model(str(tiny_env.translation), "translation").public_name,
        "summary": resolve_model(str(tiny_env.summary), "summary").public_name,
    }
    markdown = (out / "belgie/nato-russia-council-dialogue.en.md").read_text()
    assert markdown.startswith("# nato-russia-council-dialogue\n\n*Date: 2022-01*\n\n## Summary\n")
    assert "## Translation" in markdown
    assert oct(os.stat(out / "sherman-brussels-talks.json").st_mode & 0o077) != "0o0", "not private"

    # Random models' English is gibberish, so the checks flag it: each file's count on the
    # terminal (stdout keeps its one line), each flagged sentence a footnote in the .en.md.
    counts = {
        name: json.loads((out / f"{name}.json").read_text())["checks"]["flagged"]
        for name in ("belgie/nato-russia-council-dialogue", "sherman-brussels-talks")
    }
    squeezed = "".join(result.stderr.split())  # rich wraps long paths anywhere
    for name, count in counts.items():
        line = f"{count} sentences to check in {news / name}.txt (notes in its .en.md)"
        assert "".join(line.split()) in squeezed
        notes = re.findall(r"^\[\^(\d+)\]: ", (out / f"{name}.en.md").read_text(), re.MULTILINE)
        assert notes == [str(n) for n in range(1, count + 1)]
    total = sum(counts.values())
    last = (
        f"{total} sentences to check in 2 articles translated: see the notes in their .en.md files"
    )
    assert stderr.endswith(last)


def test_rerun_skips_current_outputs_and_redoes_changed_ones(
    news: Path, tmp_path: Path, tiny_env: TinyModels
) -> None:
    out = tmp_path / "out"
    vertaal("translate", str(news), "--out", str(out))
    stamp = (out / "sherman-brussels-talks.json").stat().st_mtime_ns

    again = vertaal("translate", str(news), "--out", str(out))
    assert again.stdout.strip().splitlines()[-1] == "0 translated, 2 skipped, 2 failed, 1 ignored"
    assert (out / "sherman-brussels-talks.json").stat().st_mtime_ns == stamp

    (news / "sherman-brussels-talks.txt").write_text(
        (news / "sherman-brussels-talks.txt").read_text() + "\n\nEen nieuwe slotzin volgt hier."
    )
    changed = vertaal("translate", str(news), "--out", str(out))
    assert changed.stdout.strip().splitlines()[-1] == "1 translated, 1 skipped, 2 failed, 1 ignored"

    forced = vertaal("translate", str(news), "--out", str(out), "--force")
    assert forced.stdout.strip().splitlines()[-1] == "2 translated, 0 skipped, 2 failed, 1 ignored"

    no_summary = vertaal("translate", str(news), "--out", str(out), "--no-summary")
    assert (
        no_summary.stdout.strip().splitlines()[-1] == "2 translated, 0 skipped, 2 failed, 1 ignored"
    )


def test_no_summary(tmp_path: Path, tiny_env: TinyModels) -> None:
    out = tmp_path / "out"
    result = vertaal(
        "translate", str(ARTICLES / "sherman-brussels-talks.txt"), "-o", str(out), "--no-summary"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((out / "sherman-brussels-talks.json").read_text())
    assert data["summary"] is None and data["models"]["summary"] is None
    assert "## Summary" not in (out / "sherman-brussels-talks.en.md").read_text()


def test_summary_setting_from_the_environment(
    tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERTAAL_SUMMARY", "false")
    out = tmp_path / "out"
    vertaal("translate", str(ARTICLES / "sherman-brussels-talks.txt"), "-o", str(out))
    assert json.loads((out / "sherman-brussels-talks.json").read_text())["summary"] is None


def test_not_dutch_fails_unless_any_language(tmp_path: Path, tiny_env: TinyModels) -> None:
    article = tmp_path / "english.md"
    article.write_text(ENGLISH)
    refused = vertaal("translate", str(article), "--out", str(tmp_path / "out"))
    assert refused.exit_code == 1
    assert "looks like English" in refused.stderr
    allowed = vertaal(
        "translate", str(article), "--out", str(tmp_path / "out"), "--any-language", "--no-summary"
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert (tmp_path / "out" / "english.json").is_file()


def test_output_folder_inside_the_input_folder_is_not_read(
    tmp_path: Path, tiny_env: TinyModels
) -> None:
    shutil.copy(ARTICLES / "sherman-brussels-talks.txt", tmp_path)
    first = vertaal("translate", str(tmp_path), "--out", str(tmp_path / "out"), "--no-summary")
    again = vertaal("translate", str(tmp_path), "--out", str(tmp_path / "out"), "--no-summary")
    assert first.stdout.strip() == "1 translated, 0 skipped, 0 failed, 0 ignored"
    assert again.stdout.strip() == "0 translated, 1 skipped, 0 failed, 0 ignored", (
        "out/*.en.md was not an input"
    )


def test_outputs_written_beside_the_inputs_are_not_read_back(
    tmp_path: Path, tiny_env: TinyModels
) -> None:
    shutil.copy(ARTICLES / "sherman-brussels-talks.txt", tmp_path)
    first = vertaal("translate", str(tmp_path), "--out", str(tmp_path), "--no-summary")
    again = vertaal("translate", str(tmp_path), "--out", str(tmp_path), "--no-summary")
    assert first.stdout.strip() == "1 translated, 0 skipped, 0 failed, 0 ignored"
    assert again.stdout.strip() == "0 translated, 1 skipped, 0 failed, 0 ignored"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "index.jsonl",
        "sherman-brussels-talks.en.md",
        "sherman-brussels-talks.json",
        "sherman-brussels-talks.txt",
    ]


def test_an_unreadable_folder_is_reported_and_the_rest_translated(
    tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    news = tmp_path / "news"
    (news / "locked").mkdir(parents=True)
    shutil.copy(ARTICLES / "sherman-brussels-talks.txt", news)
    real = os.scandir

    def no_permission(path: Any = ".") -> Any:  # chmod 0 means nothing to root, which CI is
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", no_permission)
    result = vertaal("translate", str(news), "--out", str(tmp_path / "out"), "--no-summary")
    assert result.exit_code == 1
    assert "locked: cannot read the folder: Permission denied" in " ".join(result.stderr.split())
    assert result.stdout.strip() == "1 translated, 0 skipped, 1 failed, 0 ignored"


def test_an_output_that_cannot_be_written_fails_that_article_only(
    tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.txt", "b.txt"):
        shutil.copy(ARTICLES / "sherman-brussels-talks.txt", tmp_path / name)
    real = batch.write_atomically

    def disk_full_for_a(path: Path, text: str) -> None:
        if path.name.startswith("a."):
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(batch, "write_atomically", disk_full_for_a)
    result = vertaal("translate", str(tmp_path), "--out", str(tmp_path / "out"), "--no-summary")
    assert result.exit_code == 1
    assert "a.txt: cannot write its outputs: No space left on device" in " ".join(
        result.stderr.split()
    )
    assert result.stdout.strip() == "1 translated, 0 skipped, 1 failed, 0 ignored"
    assert outputs(tmp_path / "out") == ["b.en.md", "b.json", "index.jsonl"]


def test_two_inputs_with_one_output_name_are_refused(tmp_path: Path, tiny_env: TinyModels) -> None:
    text = (ARTICLES / "sherman-brussels-talks.txt").read_text()
    (tmp_path / "a.txt").write_text(text)
    (tmp_path / "a.md").write_text(text)
    result = vertaal(
        "translate",
        str(tmp_path / "a.md"),
        str(tmp_path / "a.txt"),
        "-o",
        str(tmp_path / "out"),
        "--no-summary",
    )
    assert result.exit_code == 1
    assert "is already that of" in result.stderr
    assert result.stdout.strip() == "1 translated, 0 skipped, 1 failed, 0 ignored"


def test_unsupported_file_given_by_name_fails(tmp_path: Path, tiny_env: TinyModels) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF")
    result = vertaal("translate", str(tmp_path / "scan.pdf"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert ".pdf is not one of" in result.stderr


def test_missing_default_models_give_the_clear_message(
    tmp_path: Path, empty_hub_cache: Path
) -> None:
    result = vertaal("translate", str(ARTICLES), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "Cannot load the translation model 'Helsinki-NLP/opus-mt-nl-en'" in result.stderr
    assert "vertaal models download" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_invalid_setting_is_explained(
    tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERTAAL_BATCH_SIZE", "lots")
    result = vertaal("translate", str(ARTICLES), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "VERTAAL_BATCH_SIZE" in result.stderr


def test_models_info_and_download(
    tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch, empty_hub_cache: Path
) -> None:
    info = vertaal("models", "info")
    assert info.exit_code == 0, info.stderr
    assert f"files:    {tiny_env.translation}" in info.stdout
    assert "translation: loads on ctranslate2; beams 2" in info.stdout
    assert "summary: loads" in info.stdout

    download = vertaal("models", "download")
    assert download.exit_code == 0
    assert f"summary: {tiny_env.summary} -> {tiny_env.summary}" in download.stdout

    monkeypatch.delenv("VERTAAL_SUMMARY_MODEL")
    missing = vertaal("models", "info")
    assert missing.exit_code == 2
    assert "files:    missing" in missing.stdout
    assert "Cannot load the summary model 'sshleifer/distilbart-cnn-12-6'" in missing.stderr
    offline = vertaal("models", "download")
    assert offline.exit_code == 2
    assert "HF_HUB_OFFLINE" in offline.stderr


def test_models_convert_then_info_shows_the_converted_copies(
    tiny_env: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERTAAL_CONVERTED_DIR", str(tmp_path / "ct2"))
    before = vertaal("models", "info")
    assert "engine: ctranslate2 int8 on cpu" in before.stdout
    assert before.stdout.count("converted: not yet (converted on first use)") == 2

    converted = vertaal("models", "convert")
    assert converted.exit_code == 0, converted.stderr
    assert len(list((tmp_path / "ct2").glob("*--int8/model.bin"))) == 2

    after = vertaal("models", "info")
    assert after.stdout.count(f"converted: {tmp_path / 'ct2'}") == 2

    monkeypatch.setenv("VERTAAL_ENGINE", "transformers")
    refused = vertaal("models", "convert")
    assert refused.exit_code == 2
    assert "nothing to convert" in refused.stderr


def test_keep_html_writes_the_translated_page_beside_the_article(
    tmp_path: Path, tiny_env: TinyModels
) -> None:
    from tests.workers.pipeline.test_markup import PAGE, tags

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "dijken.html").write_text(PAGE)
    (folder / "kort.txt").write_text((ARTICLES / "sherman-brussels-talks.txt").read_text())
    plain = vertaal("translate", str(folder), "--out", str(out), "--no-summary")
    assert plain.exit_code == 0, plain.stderr
    assert "dijken.en.html" not in outputs(out)

    kept = vertaal("translate", str(folder), "--out", str(out), "--no-summary", "--keep-html")
    assert kept.exit_code == 0, kept.stderr
    assert kept.stdout.strip().splitlines()[-1] == "1 translated, 1 skipped, 0 failed, 0 ignored"
    assert "kort.en.html" not in outputs(out), "only HTML articles have a page to keep"
    page = (out / "dijken.en.html").read_text()
    assert tags(page, "html.parser") == tags(PAGE, "html.parser")
    data = json.loads((out / "dijken.json").read_text())
    assert data["markup"] == page and data["translation"]["paragraphs"]


def test_in_process_articles_are_translated_together_with_the_same_outputs(
    tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in sorted(ARTICLES.glob("*.txt"))[:3]:
        shutil.copy(path, folder / path.name)
    (folder / "english.txt").write_text(ENGLISH)  # fails on its own, inside a group
    outputs_of = {}
    for together in ("1", "3"):
        monkeypatch.setenv("VERTAAL_BATCH_ARTICLES", together)
        out = tmp_path / f"out-{together}"
        result = vertaal("translate", str(folder), "--out", str(out))
        assert result.exit_code == 1
        assert (
            result.stdout.strip().splitlines()[-1] == "3 translated, 0 skipped, 1 failed, 0 ignored"
        )
        assert "english.txt" in result.stderr and "looks like English" in result.stderr
        outputs_of[together] = {
            p.name: {**json.loads(p.read_text()), "timings": {}} for p in out.glob("*.json")
        }
    assert len(outputs_of["1"]) == 3 and outputs_of["1"] == outputs_of["3"]
