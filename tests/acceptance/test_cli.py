"""What every ``jobq`` command shares: global options, settings, completion, colour and one-line errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click

import jobq
from jobq.cli import cli

from .conftest import JOBQ, Shop, one_error_line, run


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert jobq.__version__ in result.stdout


def test_help_lists_every_command_of_the_spec_and_stays_fast() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("worker", "enqueue", "stats", "jobs", "dlq", "clear", "recover", "check", "migrate", "demo"):
        assert f"  {command} " in result.stdout, command
    for option in ("--url", "--app", "--json", "--version", "JOBQ_URL", "JOBQ_APP", "_JOBQ_COMPLETE"):
        assert option in result.stdout, option
    dlq = run("dlq", "--help").stdout
    for command in ("list", "inspect", "groups", "replay", "abandon", "purge", "export", "import"):
        assert f"  {command} " in dlq, command
    fastest = min(_timed(JOBQ, "--help") for _ in range(3))
    assert fastest < 1.0, f"jobq --help took {fastest:.3f} s"


def _timed(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


def test_help_does_not_import_rich() -> None:
    probe = "import sys; from jobq.cli import cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _options(command: click.Command, path: str = "jobq") -> list[tuple[str, click.Option]]:
    found = [(path, p) for p in command.params if isinstance(p, click.Option) and p.name not in ("help", "version")]
    for name, sub in getattr(command, "commands", {}).items():
        found += _options(sub, f"{path} {name}")
    return found


def test_every_option_names_its_environment_variable_in_help() -> None:
    options = _options(cli)
    assert len(options) > 60
    for path, option in options:
        assert option.show_envvar, f"{path} {option.opts}"
    text = run("dlq", "purge", "--help").stdout
    for variable in ("JOBQ_DLQ_PURGE_OLDER_THAN", "JOBQ_DLQ_PURGE_TENANT", "JOBQ_DLQ_PURGE_YES"):
        assert variable in text.replace("\n", "").replace(" ", ""), variable


def test_an_environment_variable_sets_an_option_and_a_flag_beats_it(shop: Shop) -> None:
    assert shop.jobq("check", env={"JOBQ_CHECK_LAST_24H": "1"}).returncode == 1
    assert shop.jobq("check", "--last-24h", "100", env={"JOBQ_CHECK_LAST_24H": "1"}).returncode == 0
    assert shop.json("dlq", "list", env={"JOBQ_DLQ_LIST_TENANT": "globex"})["dead_letters"][0]["tenant"] == "globex"


def test_the_config_file_ranks_below_environment_and_flags(shop: Shop) -> None:
    (shop.folder / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\n\n[tool.jobq]\nurl = "{shop.url}"\n\n[tool.jobq.check]\nlast-24h = 1\n'
        "\n[tool.jobq.dlq.list]\nlimit = 2\n"
    )
    bare = run("--json", "dlq", "list", cwd=shop.folder)  # no JOBQ_URL: the URL comes from the file
    assert bare.returncode == 0, bare.stderr
    assert len(json.loads(bare.stdout)["dead_letters"]) == 2
    assert run("check", cwd=shop.folder).returncode == 1
    assert run("check", cwd=shop.folder, env={"JOBQ_CHECK_LAST_24H": "100"}).returncode == 0
    assert run("check", "--last-24h", "100", cwd=shop.folder, env={"JOBQ_CHECK_LAST_24H": "1"}).returncode == 0


def test_jobq_toml_is_read_and_a_wrong_setting_is_a_usage_error(shop: Shop) -> None:
    (shop.folder / "jobq.toml").write_text(f'url = "{shop.url}"\n[dlq.groups]\nby = "tenant"\n')
    groups = run("--json", "dlq", "groups", cwd=shop.folder)
    assert groups.returncode == 0, groups.stderr
    assert '"by": "tenant"' in groups.stdout
    (shop.folder / "jobq.toml").write_text("[dlq.list]\nlimt = 2\n")
    result = run("dlq", "list", cwd=shop.folder)
    assert result.returncode == 2
    assert one_error_line(result) == (
        "Error: jobq.toml [dlq.list]: 'limt' is not an option of that command (see its --help)"
    )


def test_shell_completion_offers_commands_and_choices() -> None:
    script = run(env={"_JOBQ_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_jobq_completion" in script.stdout
    words = run(env={"_JOBQ_COMPLETE": "bash_complete", "COMP_WORDS": "jobq dlq re", "COMP_CWORD": "2"})
    assert "replay" in words.stdout
    classes = run(env={"_JOBQ_COMPLETE": "bash_complete", "COMP_WORDS": "jobq dlq list --class u", "COMP_CWORD": "4"})
    assert "user_error" in classes.stdout and "unknown" in classes.stdout


def test_no_color_removes_every_escape_code(shop: Shop) -> None:
    coloured = shop.jobq("dlq", "list", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in coloured.stdout
    plain = shop.jobq("dlq", "list", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == 0
    assert "\x1b[" not in plain.stdout
    assert "RuntimeError: bob is not welcome" in plain.stdout


def test_a_group_without_a_command_shows_its_help() -> None:
    result = run("dlq")
    assert "Usage: jobq dlq" in result.stderr
    assert result.returncode == 2


def test_a_mistyped_database_path_fails_and_creates_nothing(tmp_path: Path) -> None:
    result = run("--url", f"sqlite:///{tmp_path / 'typo.db'}", "stats")
    assert result.returncode == 1
    assert one_error_line(result).startswith("Error: no database at ")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run("--url", f"sqlite:///{tmp_path / 'missing' / 'jobq.db'}", "enqueue", "greet")
    assert result.returncode == 1
    assert "unable to open database file" in one_error_line(result)
    bad_url = run("--url", "mysql://localhost/jobq", "enqueue", "greet")
    assert bad_url.returncode == 1
    assert "unsupported database URL" in one_error_line(bad_url)


def test_a_locked_database_is_one_line_and_nothing_changes(shop: Shop) -> None:
    before = shop.snapshot()
    holder = sqlite3.connect(shop.db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock past the busy timeout
    try:
        started = time.monotonic()
        result = shop.jobq("dlq", "replay", "--all", "--yes", env={"JOBQ_BUSY_TIMEOUT": "0.5"})
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert "database is locked" in one_error_line(result)
    assert 0.5 <= waited < 4
    assert shop.snapshot() == before


def test_an_app_that_cannot_be_imported_is_one_clear_line(tmp_path: Path) -> None:
    result = run("--app", "nowhere:app", "worker", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --app 'nowhere:app': cannot import nowhere: ModuleNotFoundError: No module named 'nowhere'"
    ]


def test_an_app_module_that_raises_or_is_not_an_app_is_one_clear_line(shop: Shop) -> None:
    (shop.folder / "broken.py").write_text("raise RuntimeError('settings missing')\n")
    broken = shop.jobq("--app", "broken:app", "stats")
    assert one_error_line(broken) == ("Error: --app 'broken:app': cannot import broken: RuntimeError: settings missing")
    assert broken.returncode == 1
    wrong = shop.jobq("--app", "shop:send_sms", "stats")
    assert one_error_line(wrong) == "Error: --app 'shop:send_sms': shop.send_sms is not a jobq.App"
    malformed = shop.jobq("--app", "shop", "stats")
    assert "expected module:attribute" in one_error_line(malformed)


def test_the_app_from_the_current_directory_serves_read_commands(shop: Shop) -> None:
    result = shop.jobq("--app", "shop:app", "--json", "stats")
    assert result.returncode == 0, result.stderr
    assert '"total_failed"' in result.stdout


def test_demo_tells_the_whole_story_in_a_few_seconds() -> None:
    started = time.monotonic()
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert "Traceback" not in result.stdout + result.stderr
    for words in ("dead-letter queue", "user_error", "recoverable", "already replayed", "moved to DLQ after"):
        assert words in result.stdout + result.stderr, words
