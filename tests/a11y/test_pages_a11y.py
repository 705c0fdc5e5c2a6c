"""axe-core finds no violations on any registration page, in English and in French.

Needs Debian's `chromium` and `node`; the npm packages (axe-core, playwright-core, which
downloads no browser) are installed into tests/a11y/node_modules from package.json.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.unit.test_registration import PERSON, Site, csrf_of, site  # noqa: F401 - site is a fixture

HERE = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or NODE is None,
    reason="axe-core check needs Debian's chromium and node (apt-get install chromium nodejs npm)",
)


def node_modules() -> None:
    if (HERE / "node_modules" / "axe-core").exists() and (HERE / "node_modules" / "playwright-core").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install axe-core and playwright-core (apt-get install npm)"
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"], cwd=HERE, check=True, capture_output=True
    )


async def pages(registration: Site, language: str) -> dict[str, str]:
    """Every page a person can see, as HTML: forms, forms with errors, results."""
    found: dict[str, str] = {}

    async def keep(name: str, response: object) -> str:
        html = await response.text()  # type: ignore[attr-defined]
        found[f"{language}-{name}"] = html
        return html

    client = registration.client
    if language == "en":
        await keep("choose", await client.get("/register"))
    form = await keep("signup", await client.get(f"/register/{language}"))
    csrf = csrf_of(form)
    await keep("signup-errors", await client.post(f"/register/{language}", data={"csrf": csrf}))
    young = {**PERSON, "csrf": csrf, "birth_date": date.today().replace(year=date.today().year - 10).isoformat()}
    await keep("too-young", await client.post(f"/register/{language}", data=young))
    await keep("sent", await client.post(f"/register/{language}", data={**PERSON, "csrf": csrf}))
    path = "/" + registration.mailbox.link().split("://", 1)[1].partition("/")[2]
    activation = await keep("activate", await client.get(path))
    token = activation.split('name="token" value="', 1)[1].split('"', 1)[0]
    action = path.partition("?")[0]
    data = {"csrf": csrf_of(activation), "token": token, "password": "short"}
    await keep("activate-errors", await client.post(action, data=data))
    data.update(password="a long enough password", password_again="a long enough password")
    await keep("welcome", await client.post(action, data=data))
    await keep("link-used", await client.get(path))
    await keep("csrf-refused", await client.post(f"/register/{language}", data=PERSON))
    return found


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_axe_finds_no_violations(site: Site, language: str, tmp_path: Path) -> None:  # noqa: F811
    node_modules()
    files = []
    for name, html in (await pages(site, language)).items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    assert CHROMIUM and NODE
    command = [NODE, str(HERE / "axe.mjs"), CHROMIUM, *files]
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout)
    assert len(results) == len(files)
    violations = {Path(f).stem: v for f, v in results.items() if v}
    assert not violations, json.dumps(violations, indent=1)
