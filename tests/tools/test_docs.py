"""The documentation site: it builds with --strict (a broken link fails it), the files outside it link
right, the rules page holds every rule and warning the package cites, nothing sends a user to a file they do
not have, and every shell recipe runs as written in a user's project or says why it cannot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docs_pages import IN_A_CHECKOUT, NEEDS_AWS, Block, all_blocks, blocks_of, page_text, project_files, user_pages
from helpers import ROOT

BIN = Path(sys.executable).parent
PACKAGES = ("constructs_sqs", "constructs_sqs_runtime")


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_MKDOCS_2_WARNING": "1"}
    command = [str(BIN / "mkdocs"), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


# --- The site ---------------------------------------------------------------------------------------


def test_the_site_builds_with_strict_checks(tmp_path: Path) -> None:
    done = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-5000:]
    for page in ("getting-started", "patterns/lambda-triggered-queue", "rules", "api/patterns", "changelog"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page
    api = (tmp_path / "site" / "api" / "patterns" / "index.html").read_text()
    for name in ("FifoQueueWithDlq", "EncryptedQueue", "grant_send_messages", "high_throughput", "dead_letter_queue"):
        assert f"constructs_sqs.{name}" in api or name in api, name
    assert "fonts.googleapis.com" not in (tmp_path / "site" / "index.html").read_text()


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("[a page](no-such-page.md)", "no-such-page.md"),
        ("[an anchor](rules.md#no-such-rule)", "no-such-rule"),
    ],
)
def test_a_broken_link_fails_the_build(tmp_path: Path, breakage: str, message: str) -> None:
    """What `make docs` (and so `make test`) relies on: --strict turns a broken link or anchor into an error."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copy(ROOT / "CHANGELOG.md", copy / "CHANGELOG.md")
    for package in PACKAGES:
        (copy / package).symlink_to(ROOT / package)
    (copy / "bench").symlink_to(ROOT / "bench")
    (copy / "docs" / "index.md").write_text(page_text("docs/index.md") + f"\n{breakage}\n")
    done = _mkdocs(copy / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 1
    assert message in done.stderr and "Aborted with 1 warnings in strict mode" in done.stdout + done.stderr


# --- Links outside the site (README, CONTRIBUTING, CHANGELOG) --------------------------------------


def _anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page as the site makes them: headings (python-markdown's toc slugs, or an
    explicit `{ #id }`) and `<a id="...">`."""
    from markdown.extensions.toc import slugify

    text = page.read_text()
    anchors = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", text, flags=re.DOTALL), flags=re.MULTILINE):
        explicit = re.search(r"\{ *#([\w-]+) *\}\s*$", heading)
        anchors.add(explicit[1] if explicit else slugify(heading.replace("`", ""), "-"))
    return anchors


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"])
def test_the_links_of_the_files_beside_the_site_resolve(name: str) -> None:
    text = (ROOT / name).read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert local or name == "CHANGELOG.md"
    for link in local:
        path, _, anchor = link.partition("#")
        target = (ROOT / path) if path else ROOT / name
        assert target.exists(), f"{name}: {link} names no file"
        if anchor:
            assert anchor in _anchors(target), f"{name}: {link}: no such anchor"


def test_the_readme_is_for_users_and_short() -> None:
    readme = page_text("README.md")
    assert len(readme.splitlines()) <= 250
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert headings[0] == "Install" and "Documentation" in headings
    assert len([b for b in blocks_of("README.md") if b.language == "python"]) >= 2
    assert "make " not in readme.split("## Contributing", 1)[0].replace("`make dist`", "").replace("`make docs`", "")


# --- Rules: what warnings and errors cite is published ---------------------------------------------


def _package_sources() -> dict[Path, str]:
    return {
        file: file.read_text()
        for package in PACKAGES
        for file in (ROOT / package).rglob("*.py")
        if "runtime-layer" not in file.parts
    }


def _rule_ids_on_the_page() -> set[str]:
    return set(re.findall(r'<a id="([a-z]\d+)"></a>', page_text("docs/rules.md")))


def test_every_rule_the_package_cites_is_on_the_rules_page() -> None:
    cited: set[str] = set()
    for text in _package_sources().values():
        for group in re.findall(r"\brules? ((?:[A-Z]\d+)(?:(?:-|, | and )[A-Z]\d+)*)", text):
            cited |= set(re.findall(r"[A-Z]\d+", group))
    assert {"L1", "Q4", "Q7"} <= cited
    assert {rule.lower() for rule in cited} <= _rule_ids_on_the_page()


def test_every_warning_id_of_the_package_is_on_the_rules_page() -> None:
    warning = r'(?:WARNING_\w+\s*=\s*|warning_id\s*=\s*|add_warning_v2\(\s*)"(constructs-sqs:[a-z-]+)"'
    ids = {found for text in _package_sources().values() for found in re.findall(warning, text)}
    assert len(ids) >= 10
    listed = set(re.findall(r"^\| `(constructs-sqs:[a-z-]+)` \|", page_text("docs/rules.md"), flags=re.MULTILINE))
    assert ids == listed


def test_the_rules_page_publishes_every_rule_of_the_project() -> None:
    """The project's own rules (shared/RELIABILITY.md beside the repository, where it is checked out)."""
    shared = ROOT.parent / "shared" / "RELIABILITY.md"
    if not shared.is_file():
        pytest.skip("no shared/RELIABILITY.md beside this checkout")
    ids = {rule.lower() for rule in re.findall(r"^\| ([A-Z]\d+) \|", shared.read_text(), flags=re.MULTILINE)}
    assert ids <= _rule_ids_on_the_page()


FILES_USERS_DO_NOT_HAVE = ("RELIABILITY", "../shared", "sample_app/handlers", "shared/")


def test_nothing_in_the_package_or_the_user_docs_refers_to_files_users_do_not_have() -> None:
    found = [
        f"{file.relative_to(ROOT)}: {needle}"
        for file, text in _package_sources().items()
        for needle in FILES_USERS_DO_NOT_HAVE
        if needle in text
    ]
    found += [f"{page}: {needle}" for page in user_pages() for needle in FILES_USERS_DO_NOT_HAVE if needle in page_text(page)]
    assert found == []


# --- Shell recipes ------------------------------------------------------------------------------------

SCENARIO_PAGES = (
    "README.md",
    "docs/getting-started.md",
    "docs/runtime/handler.md",
    "docs/snapshot-testing.md",
    "docs/compliance.md",
    "docs/local.md",
    "docs/cli.md",
)


def _recipes() -> list[Block]:
    return [b for b in all_blocks("bash", "sh", "shell")]


def _runnable(block: Block) -> bool:
    return block.title not in (NEEDS_AWS, IN_A_CHECKOUT)


def _is_stop(block: Block) -> bool:
    return block.code.strip() == "python -m constructs_sqs.local stop"


def _checkout_alternative(block: Block) -> bool:
    """Getting started's install from a clone (`pip install './constructs-sqs[tooling]'`), not in a comment."""
    return any("'./constructs-sqs[" in line.split("#", 1)[0] for line in block.code.splitlines())


def user_scenario() -> list[Block]:
    """The recipes a user runs one after the other in one project: install, synth, test the handler,
    snapshot, compliance, deploy locally, the CLI against it, then stop the emulator."""
    blocks = [b for page in SCENARIO_PAGES for b in blocks_of(page) if b.language == "bash" and _runnable(b)]
    blocks = [b for b in blocks if not _checkout_alternative(b)]
    stops = [b for b in blocks if _is_stop(b)]
    return [b for b in blocks if not _is_stop(b)] + stops


def checkout_scenario() -> list[Block]:
    return [b for b in _recipes() if _runnable(b) and _checkout_alternative(b)]


def test_every_recipe_is_run_by_a_test_or_says_why_not() -> None:
    recipes = _recipes()
    assert len(recipes) >= 10
    run = {b.name for b in user_scenario() + checkout_scenario()}
    for block in recipes:
        assert block.name in run or not _runnable(block), f"{block.name} is neither run by a test nor marked"
        assert block.page in SCENARIO_PAGES or not _runnable(block), f"{block.name}: add its page to a scenario"


def test_recipes_in_a_checkout_name_make_targets_that_exist() -> None:
    """Recipes of the repository itself (its Makefile): checked with `make -n`, since running them would run
    this test suite (`make test`), deploy the sample app or benchmark for minutes."""
    contributing = [b for b in blocks_of("CONTRIBUTING.md") if b.language == "bash"]
    commands = [
        line.split("#", 1)[0].split()
        for block in _recipes() + contributing
        if block.title == IN_A_CHECKOUT
        for line in block.code.splitlines()
        if line.startswith("make ")
    ]
    targets = sorted({command[1] for command in commands})
    assert {"synth", "test", "deploy-local", "compliance", "bench"} <= set(targets)
    done = subprocess.run(["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def _scenario_environment(home: Path) -> dict[str, str]:
    """A user's shell: the system's PATH (no venv of this repository), no AWS variables, a port of its own."""
    from constructs_sqs.local import find_free_port

    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT)) and p != str(BIN)]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_", "VIRTUAL_ENV", "PYTHON", "LOCAL_PORT", "PYTEST", "COV_", "DOCS_RECIPES"))
    }
    # DOCS_RECIPES_PORT pins the emulator's port (a shared machine's own range); else any free port.
    port = os.environ.get("DOCS_RECIPES_PORT") or str(find_free_port())
    env.update(PATH=os.pathsep.join(path), LOCAL_PORT=port, CDK_DISABLE_CLI_TELEMETRY="true")
    env["HOME"] = str(home)
    return env


def _run_scenario(blocks: list[Block], project: Path, env: dict[str, str], timeout: float) -> dict[str, float]:
    """Run the blocks as one shell script in ``project``; returns seconds from the start to the end of each block."""
    script = ["set -eo pipefail", "start=$(date +%s.%N)"]
    for block in blocks:
        script += [f'echo "::block {block.name}"', block.code.rstrip(), f'echo "::done {block.name} $(date +%s.%N)"']
    (project / "recipes.sh").write_text("\n".join(script) + "\n")
    started = time.time()
    done = subprocess.run(["bash", "recipes.sh"], cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        current = re.findall(r"^::block (.+)$", done.stdout, flags=re.MULTILINE)
        raise AssertionError(f"recipe {current[-1] if current else '?'} failed ({done.returncode}):\n{output[-6000:]}")
    return {name: float(at) - started for name, at in re.findall(r"^::done (.+) (\d+\.\d+)$", done.stdout, flags=re.MULTILINE)}


@pytest.fixture(scope="module")
def wheel_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as `make dist` builds it, from a copy of the package sources."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("constructs_sqs-*.whl")
    return built


def _user_home(tmp_path: Path) -> Path:
    """A HOME of the user's that shares this machine's caches (pip, npm, jsii's unpacked aws-cdk-lib)."""
    home = tmp_path / "home"
    home.mkdir()
    real = Path(os.environ.get("HOME", "/root"))
    for cache in (".cache", ".npm", ".npmrc"):
        if (real / cache).exists():
            (home / cache).symlink_to(real / cache)
    return home


@pytest.mark.slow
def test_the_recipes_run_as_written_in_a_users_project(wheel_in: Path, tmp_path: Path) -> None:
    """README, Getting started, the handler's test, snapshot testing, the compliance gates, the local
    emulator and the operator CLI, in that order, in a new project outside this repository, from the wheel
    of `make dist`: every command as the pages write it. The time to the first synth is what a user waits."""
    project = tmp_path / "my-app"
    project.mkdir()
    shutil.copy(wheel_in, project / wheel_in.name)
    for name, content in project_files().items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content)
    env = _scenario_environment(_user_home(tmp_path))
    blocks = user_scenario()
    try:
        times = _run_scenario(blocks, project, env, timeout=2400)
    finally:  # the emulator must not outlive the test, whatever failed
        python = project / ".venv" / "bin" / "python"
        if python.exists():
            subprocess.run([str(python), "-m", "constructs_sqs.local", "stop"], cwd=project, env=env,
                           capture_output=True, timeout=120, check=False)
    (synth,) = [b.name for b in blocks if "npx cdk synth --quiet\nls cdk.out" in b.code]
    print(f"\nfrom a fresh venv to the first synth: {times[synth]:.0f} s; all recipes: {max(times.values()):.0f} s")
    for name, at in times.items():
        print(f"  {at:6.0f} s  {name}")
    assert (project / "cdk.out" / "Shop.template.json").is_file()
    assert (project / "tests" / "__snapshots__").is_dir()


@pytest.mark.slow
def test_the_install_from_a_checkout_runs_as_written(tmp_path: Path) -> None:
    """Getting started's other install: `pip install './constructs-sqs[tooling]'` from a clone."""
    project = tmp_path / "my-app"
    project.mkdir()
    clone = project / "constructs-sqs"
    clone.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md"):
        shutil.copy(ROOT / name, clone / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, clone / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    blocks = checkout_scenario()
    assert blocks
    env = _scenario_environment(_user_home(tmp_path))
    _run_scenario(blocks, project, env, timeout=1200)
    check = "import constructs_sqs, pathlib; print(pathlib.Path(constructs_sqs.__file__).parent.parent.name)"
    done = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", check], cwd=project, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "site-packages"


def test_the_wheel_the_documentation_installs_is_the_packages_version() -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    named = {found for page in user_pages() for found in re.findall(r"constructs_sqs-([\w.]+)-py3-none-any\.whl", page_text(page))}
    assert named == {version}
