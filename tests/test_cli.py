"""The ``feeds`` command as users run it: output lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.cli import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, main
from tests.conftest import ROOT

SEED = "000_67cfbf01876fe2fd.txt"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled seeds and config, as a fresh clone has them."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeds", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_build_with_the_default_config_writes_every_output(project: Path) -> None:
    result = run(["build"], project)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines() == [
        "all: 4 added, 0 changed, 0 removed, 0 unchanged; wrote rss.xml, atom.xml, feed.json",
        f"output in {project / 'public'}",
    ]
    assert result.stderr == ""  # nothing like a progress bar when piped
    for name in ("all/rss.xml", "all/atom.xml", "all/feed.json", "index.html", "feeds.opml"):
        assert (project / "public" / name).is_file()


def test_a_second_build_says_nothing_changed(project: Path) -> None:
    run(["build"], project)
    result = run(["build"], project)
    assert result.returncode == EXIT_OK
    assert result.stdout.splitlines()[0] == (
        "all: 0 added, 0 changed, 0 removed, 4 unchanged; files unchanged")


def test_dry_run_writes_nothing(project: Path) -> None:
    result = run(["build", "--dry-run"], project)
    assert result.returncode == EXIT_OK
    assert "would write rss.xml, atom.xml, feed.json" in result.stdout
    assert not (project / "public").exists()
    assert not (project / "state").exists()


def test_rejected_inputs_are_named_and_give_exit_1(project: Path) -> None:
    (project / "seeds" / "empty.txt").write_bytes(b"")
    (project / "seeds" / "noise.txt").write_bytes(bytes(range(256)))
    result = run(["build"], project)
    assert result.returncode == EXIT_REJECTED
    assert sorted(result.stderr.splitlines()) == [
        "feeds: seeds: empty.txt: empty file",
        "feeds: seeds: noise.txt: binary data (NUL bytes)",
    ]
    assert "4 added" in result.stdout


def test_a_bad_config_names_file_and_key_and_gives_exit_2(project: Path) -> None:
    toml = project / "config" / "feeds.toml"
    toml.write_text(toml.read_text().replace("[output]", "[output]\ndirr = 'x'"))
    result = run(["build"], project)
    assert result.returncode == EXIT_FAILED
    assert "Traceback" not in result.stderr
    assert f"{Path('config/feeds.toml')}: 1 problem:" in result.stderr
    assert "output.dirr: unknown key (did you mean 'dir'?)" in result.stderr


def test_an_unwritable_output_gives_exit_2_without_traceback(project: Path) -> None:
    (project / "public").write_text("a file where the output folder should be")
    result = run(["build"], project)
    assert result.returncode == EXIT_FAILED
    assert "Traceback" not in result.stderr
    assert "public" in result.stderr


def test_check_reports_every_problem(project: Path) -> None:
    toml = project / "config" / "feeds.toml"
    toml.write_text(toml.read_text().replace('limit = 50', 'limit = "many"\ncolour = "red"'))
    result = run(["check"], project)
    assert result.returncode == EXIT_FAILED
    assert "2 problems" in result.stderr
    assert "feeds[0].limit: must be an integer, got a string" in result.stderr
    assert "feeds[0].colour: unknown key" in result.stderr


def test_check_accepts_the_bundled_config(project: Path) -> None:
    result = run(["check"], project)
    assert result.returncode == EXIT_OK
    assert "OK (1 sources, 1 feeds)" in result.stdout


def test_the_config_comes_from_the_environment(project: Path, tmp_path: Path) -> None:
    moved = project / "elsewhere.toml"
    (project / "config" / "feeds.toml").rename(moved)
    shutil.move(project / "seeds", project / "config" / "seeds")  # paths resolve from the file
    moved.write_text(moved.read_text().replace("../", "./").replace(
        '"./seeds"', '"config/seeds"'))
    result = run(["check"], project, env={"FEEDS_CONFIG": str(moved)})
    assert result.returncode == EXIT_OK, result.stderr


def test_inspect_json_prints_every_field(project: Path) -> None:
    result = run(["inspect", "--json", str(project / "seeds" / SEED)], project)
    assert result.returncode == EXIT_OK, result.stderr
    data = json.loads(result.stdout)
    assert {"title", "published", "published_at", "date_source", "author", "authors", "dateline",
            "summary_bullets", "caption", "body", "content_html", "summary", "language",
            "id"} <= set(data)
    assert data["title"] == "Afghan spy agency says top Al-Qaeda leader killed in joint US raid"
    assert data["published"] == "2019-10-08"
    assert data["published_at"] == "2019-10-08T00:00:00+00:00"
    assert data["date_source"] == "content"
    assert data["dateline"] == "KABUL"
    assert len(data["summary_bullets"]) == 2
    assert data["caption"].endswith("(Handout/NDS Afghanistan)")
    assert data["language"] == "en"
    assert data["id"] is None  # not built yet: no id minted


def test_inspect_shows_the_stored_id_after_a_build(project: Path) -> None:
    run(["build"], project)
    data = json.loads(run(["inspect", "--json", f"seeds/{SEED}"], project).stdout)
    atom = (project / "public" / "all" / "atom.xml").read_text()
    assert data["id"].startswith("urn:uuid:") and f"<id>{data['id']}</id>" in atom


def test_inspect_flags_a_date_taken_from_the_mtime(tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text("A headline\n\nA body with no date line.\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    data = json.loads(run(["inspect", "--json", str(path)], tmp_path).stdout)
    assert data["published"] is None
    assert data["date_source"] == "mtime"
    assert data["published_at"] == "2023-11-14T22:13:20+00:00"


def test_inspect_rejects_a_non_article_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run(["inspect", "--json", str(path)], tmp_path)
    assert result.returncode == EXIT_REJECTED
    assert result.stdout == ""
    assert result.stderr.strip() == f"feeds: {path}: empty file"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    import feeds

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"feeds {feeds.__version__}\n"
    assert version("feeds") == feeds.__version__  # pyproject.toml reads it from the source


def test_a_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["build"], tmp_path)
    assert result.returncode == EXIT_FAILED
    assert result.stderr.strip() == (
        f"feeds: error: {Path('config/feeds.toml')}: config file not found")


def test_a_long_build_shows_progress_on_a_terminal_only(project: Path) -> None:
    import pty

    for i in range(60):
        (project / "seeds" / f"extra{i:02}.txt").write_text(
            f"Extra story {i}\n\nPublished 3 May 2024\n\nBody of story {i}.\n")
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "feeds", "build"], cwd=project,
                              stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=120)
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
    assert proc.returncode == EXIT_OK
    assert b"\rreading seeds: 64/64" in seen
    assert "reading" not in proc.stdout


def test_a_closed_pipe_is_not_an_error(project: Path) -> None:
    big = project / "big.txt"  # its JSON is far larger than a pipe's buffer
    big.write_text("A long story\n\n" + "\n\n".join(f"Paragraph {i} " * 40 for i in range(2000)))
    proc = subprocess.Popen([sys.executable, "-m", "feeds", "inspect", "--json", str(big)],
                            cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`
    assert proc.wait(timeout=60) == EXIT_OK
    assert b"Traceback" not in proc.stderr.read()


def test_a_failing_source_is_named_once(tmp_path: Path) -> None:
    """``feeds: source gone: HTTP 404 ...``, not ``source gone: source 'gone': HTTP 404``."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/page.html":
                body = b"<!DOCTYPE html><html><head><title>p</title></head><body>hi</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "list.opml").write_text(
        f'<opml version="2.0"><body><outline text="o" xmlUrl="{base}/o.xml"/></body></opml>')
    (tmp_path / "feeds.toml").write_text(
        '[store]\npath = "feeds.db"\n[output]\ndir = "public"\n[fetch]\nallow_private = true\n'
        f'[[sources]]\nname = "gone"\nkind = "feed"\nurl = "{base}/gone.xml"\n'
        f'[[sources]]\nname = "page"\nkind = "feed"\nurl = "{base}/page.html"\n'
        '[[sources]]\nname = "list"\nkind = "opml"\npath = "list.opml"\n'
        '[[feeds]]\nname = "all"\n')
    try:
        result = run(["build", "-q", "--config", "feeds.toml"], tmp_path)
    finally:
        server.shutdown()
    assert result.returncode == EXIT_REJECTED, result.stderr
    lines = result.stderr.splitlines()
    assert f"feeds: source gone: HTTP 404 Not Found ({base}/gone.xml)" in lines
    assert f"feeds: source page: an HTML page that announces no feed ({base}/page.html)" \
        in lines
    assert [line for line in lines if line.startswith("feeds: list:")] == [
        f"feeds: list: list.127.0.0.1-o: HTTP 404 Not Found ({base}/o.xml)"]
    assert not [line for line in lines if "source '" in line]


@pytest.mark.parametrize(("argv", "expected"), [
    ("-q build", {"quiet": True, "verbose": 0, "config": None}),
    ("build -q", {"quiet": True, "verbose": 0, "config": None}),
    ("-vv build", {"quiet": False, "verbose": 2}),
    ("build -vv", {"quiet": False, "verbose": 2}),
    ("-v build -v", {"verbose": 2}),
    ("--config X build", {"config": "X"}),
    ("-c X build", {"config": "X"}),
    ("build --config X -q", {"config": "X", "quiet": True}),
    ("--config X -q build --dry-run", {"config": "X", "quiet": True, "dry_run": True}),
    ("--log-level debug status", {"log_level": "debug", "command": "status"}),
    ("status --log-level debug", {"log_level": "debug", "command": "status"}),
    ("-q --config X check", {"config": "X", "quiet": True, "command": "check"}),
    ("--config X inspect a.txt", {"config": "X", "command": "inspect"}),
])
def test_global_options_are_taken_before_or_after_the_command(
        argv: str, expected: dict[str, object]) -> None:
    from feeds.cli_args import parse

    args = vars(parse(argv.split()))
    assert {key: args[key] for key in expected} == expected


def test_options_before_the_command_are_obeyed(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(project / "config" / "feeds.toml")
    quiet = run(["-q", "--config", config, "build"], elsewhere)
    assert quiet.returncode == EXIT_OK, quiet.stderr
    assert quiet.stdout == ""  # -q before the command, and --config found the project
    assert (project / "public" / "all" / "rss.xml").is_file()
    loud = run(["--log-level", "info", "build", "--config", config], elsewhere)
    assert loud.returncode == EXIT_OK, loud.stderr
    assert "source seeds ingested" in loud.stderr
    assert loud.stdout.startswith("all: 0 added")


def test_an_option_after_the_command_wins_over_none_before_it(project: Path) -> None:
    """A command's copy of an option does not reset what was given before the command."""
    result = run(["-q", "build", "--dry-run"], project)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout == ""
