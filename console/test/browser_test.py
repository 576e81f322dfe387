"""The console in a real Chromium, against a real edgepub (started by scripts/console.sh).

    python console/test/browser_test.py --url URL --token TOKEN --data-dir DIR --shots DIR [--only-publish]

Each scenario drives the console the way an operator does (labelled controls, roles, keyboard)
and sets up only what the console cannot (a project, pages, a broken target, an edited
pages.db, a webhook receiver) through the API or the filesystem. Screenshots of every main view
go to --shots; axe-core (from the repo's node_modules, injected here, never shipped) must find
no serious or critical violation on any of them.
"""

import argparse
import re
import http.server
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from playwright.sync_api import Page, expect, sync_playwright

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--url", required=True)
ARGS.add_argument("--token", required=True)
ARGS.add_argument("--data-dir", required=True)
ARGS.add_argument("--shots", required=True)
ARGS.add_argument("--axe", required=True, help="path of axe.min.js")
ARGS.add_argument("--only-publish", action="store_true")
ARGS.add_argument("--tursodb", help="the tursodb binary (npm `turso`)")
ARGS.add_argument("--redis-url", help="a Redis for the cache scenario (skipped without)")
ARGS.add_argument("--label", default="sqlite")
ARGS.add_argument("--from-disk", action="store_true", help="serve console/ from disk (iterate without rebuilding)")
A = ARGS.parse_args()
SHOTS = pathlib.Path(A.shots)
SHOTS.mkdir(parents=True, exist_ok=True)
AXE = pathlib.Path(A.axe).read_text()
LONG = 30_000


def api(method, path, body=None, token=None):
    req = urllib.request.Request(
        A.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token or A.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        raw = res.read()
        return json.loads(raw) if raw else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step(name):
    print(f"[console:{A.label}] {name}", file=sys.stderr, flush=True)


def check_view(page: Page, name: str):
    """Screenshot, no horizontal overflow, and axe-core: nothing serious or critical."""
    page.screenshot(path=str(SHOTS / f"{A.label}-{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: axe-core violations:\n" + "\n".join(bad)


def open_tab(page: Page, label: str):
    page.get_by_role("navigation", name="Project views").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=2, name=label)).to_be_visible()


def sign_in(page: Page, token: str):
    page.goto(A.url + "/console")
    box = page.get_by_role("textbox", name="API token")
    expect(box).to_be_focused()
    page.keyboard.type(token)
    page.keyboard.press("Enter")


def publish_and_wait(page: Page, state: str):
    open_tab(page, "Publish")
    # By keyboard: the button is reachable by focus and activated with Enter.
    page.get_by_role("button", name="Publish", exact=True).focus()
    page.keyboard.press("Enter")
    out = page.locator("#publish-out")
    expect(out.locator(f".result[data-state='{state}']")).to_be_visible(timeout=LONG)
    return out


def setup():
    project = api("POST", "/api/projects", {"name": "Shop"})
    p = project["slug"]
    for slug, name, kind in (("home", "Home", "Heading"), ("about", "About", "Heading"), ("contact", "Contact", "Blink")):
        api("POST", f"/api/projects/{p}/pages", {
            "slug": slug, "name": name, "is_homepage": slug == "home",
            "layout_data": {"content": [{"id": "h", "type": kind, "props": {"text": name}}], "root": {}},
        })
    api("POST", "/api/projects", {"name": "Other"})
    return project


HOOK_PORT = free_port()


def add_endpoint(page: Page, url: str):
    step("add a webhook endpoint: its signing secret is shown once, then never again")
    open_tab(page, "Webhooks")
    expect(page.get_by_text("No webhook endpoints. Add one below.")).to_be_visible()
    form = page.get_by_role("form", name="New webhook endpoint")
    form.get_by_label("Endpoint URL").fill(url)
    form.get_by_label("publish.succeeded").check()
    form.get_by_label("publish.partial").check()
    form.get_by_role("button", name="Add endpoint").click()
    expect(form.get_by_role("status")).to_contain_text("shown only this once")
    secret = form.locator("code.secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret), secret
    card = page.get_by_role("article").filter(has_text=f"127.0.0.1:{HOOK_PORT}")
    expect(card).to_contain_text("events: publish.succeeded, publish.partial")
    check_view(page, "webhook-added")
    page.reload()
    expect(page.get_by_role("heading", level=2, name="Webhooks")).to_be_visible()
    expect(card).to_be_visible()
    assert secret not in page.content()


def scenario_publish(page: Page, project):
    p = project["slug"]
    step("a project-limited token sees only its project; a bad token is told what to do")
    limited = api("POST", "/api/tokens", {"name": f"limited-{A.label}", "scopes": ["admin"], "project": p})
    sign_in(page, "ep_not_a_real_token_0123456789abcdef")
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    sign_in(page, limited["token"])
    table = page.get_by_role("table", name="Projects this token can see")
    expect(table.get_by_role("link", name="Shop")).to_be_visible()
    expect(table.get_by_role("link", name="Other")).to_have_count(0)
    assert A.token not in page.content() and limited["token"] not in page.content()
    check_view(page, "projects")
    page.goto(f"{A.url}/console/#/p/other/pages")
    expect(page.get_by_role("alert")).to_contain_text("limited to another project")
    page.get_by_role("link", name="← Projects").click()

    step("pages: draft vs published, compile diagnostics")
    table.get_by_role("link", name="Shop").click()
    pages = page.get_by_role("table", name="Pages (nothing published yet)")
    expect(pages.get_by_role("row")).to_have_count(4)
    expect(pages).to_contain_text("unpublished")
    page.get_by_role("button", name="Compile (dry run)").click()
    expect(page.get_by_text("Compiled 3 pages: 0 errors, 1 warnings.")).to_be_visible(timeout=LONG)
    diagnostics = page.get_by_role("table", name="Compile diagnostics")
    expect(diagnostics.get_by_role("row", name=re.compile(r"^warning .contact "))).to_contain_text("unknown_component_type")
    check_view(page, "pages")

    if not A.only_publish:
        add_endpoint(page, f"http://127.0.0.1:{HOOK_PORT}/hook")

    step("publish and watch the bar reach done")
    out = publish_and_wait(page, "succeeded")
    expect(out.locator("progress")).to_have_attribute("value", "100")
    expect(out.get_by_role("table", name="Targets of this job")).to_contain_text("ok")
    check_view(page, "publish")
    open_tab(page, "Pages")
    expect(page.get_by_role("table", name="Pages (published = release 1)")).to_contain_text("published")


class Turso:
    """A real Turso server (`tursodb --sync-server`) that the test stops and starts again."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="edgepub-console-turso.")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.start()

    def start(self):
        deadline = time.monotonic() + 20
        while True:
            self.proc = subprocess.Popen(
                [A.tursodb, os.path.join(self.dir, "turso.db"), "--sync-server", f"127.0.0.1:{self.port}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            began = time.monotonic()
            while time.monotonic() - began < 3 and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                    return
                except OSError:
                    time.sleep(0.05)
            self.stop()  # exited or silent: the port or the file was not free yet
            assert time.monotonic() < deadline, "tursodb did not start"
            time.sleep(0.1)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def scenario_partial_and_retry(page: Page, project, turso: Turso):
    step("stop a target's server, publish, see it partial, start it again and retry")
    p = project["slug"]
    add_target(page, "turso", "eu", url=turso.url)
    turso.stop()
    api("PATCH", f"/api/pages/{page_id(p, 'about')}", {"title": "Second"})
    open_tab(page, "Pages")
    expect(page.get_by_role("table", name="Pages (published = release 1)").get_by_role("row", name=re.compile(r"^About "))).to_contain_text("edited since release")
    out = publish_and_wait(page, "partial")
    results = out.get_by_role("table", name="Targets of this job")
    expect(results.get_by_role("row", name=re.compile(r"^eu "))).to_contain_text("refused")
    expect(results.get_by_role("row", name=re.compile(r"^local "))).to_contain_text("ok")
    check_view(page, "partial")
    turso.start()
    out.get_by_role("button", name="Retry failed targets (eu)").click()
    expect(out.locator(".result[data-state='succeeded']")).to_be_visible(timeout=LONG)
    secret = "edge-system-key-never-shown-9f3a"
    add_target(page, "edge", "edge", url="http://127.0.0.1:9", token=secret)
    page.get_by_role("button", name="Disable edge").click()
    edge = page.get_by_role("row", name=re.compile(r"^edge "))
    expect(edge).to_contain_text("disabled")
    expect(edge).to_contain_text("ends in …9f3a")
    assert secret not in page.content()
    page.get_by_role("button", name="Test connection of eu").click()
    expect(page.locator("#target-test-out")).to_contain_text("ok")
    check_view(page, "targets")
    open_tab(page, "Jobs")
    expect(page.get_by_role("table", name=re.compile(r"^Jobs \(\d+, newest first\)$"))).to_contain_text("partial")
    check_view(page, "jobs")


def add_target(page: Page, kind: str, name: str, url: str, token: str | None = None):
    step(f"add a {kind} target through the form: only the fields its kind takes are shown")
    open_tab(page, "Targets")
    form = page.get_by_role("form", name="New target")
    form.get_by_label("Kind").select_option(kind)
    expect(form.get_by_label("Path of pages.db (inside the project's site directory)")).to_be_hidden()
    form.get_by_label("Name").fill(name)
    form.get_by_label("URL").fill(url)
    if kind == "edge":
        key = form.get_by_label("System key (the edge's x-system-key)")
        expect(key).to_have_attribute("required", "")
        key.fill(token)
    else:
        expect(form.get_by_label("Auth token (optional for a local tursodb)")).to_be_visible()
    form.get_by_role("button", name="Add target").click()
    expect(page.get_by_role("row", name=re.compile(rf"^{name} "))).to_contain_text(kind)
    # The form is ready for the next one, back on the first kind.
    expect(form.get_by_label("Kind")).to_have_value("local")


def page_id(project, slug):
    return api("GET", f"/api/projects/{project}/pages?slug={slug}")["items"][0]["id"]


def scenario_rollback(page: Page, project):
    step("roll back, with a confirmation naming what changes")
    open_tab(page, "Releases")
    first = page.get_by_role("button", name="Roll back to release #1")
    first.click()
    dialog = page.get_by_role("dialog", name="Roll back to release #1?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # cancels: nothing is queued
    expect(dialog).to_have_count(0)
    expect(page.locator("#rollback-out")).to_be_empty()
    first.click()
    expect(dialog).to_contain_text("/about v2 → v1")
    check_view(page, "rollback-confirm")
    dialog.get_by_role("button", name="Roll back to #1").click()
    expect(page.locator("#rollback-out .result[data-state='succeeded']")).to_be_visible(timeout=LONG)
    releases = page.get_by_role("table", name="Releases (3, newest first)")
    expect(releases.get_by_role("row", name=re.compile(r"^#3 "))).to_contain_text("/about v2 → v3")
    check_view(page, "releases")


def scenario_repair(page: Page, project):
    step("repair a hand-edited target")
    db = pathlib.Path(A.data_dir, "sites", project["site_dir"], "pages.db")
    subprocess.run(["sqlite3", str(db), "UPDATE published_pages SET version = 9, content_hash = 'x' WHERE slug = 'about';"], check=True)
    open_tab(page, "Drift")
    expect(page.get_by_role("table", name="Targets compared with the release")).to_contain_text("changed /about")
    check_view(page, "drift")
    page.get_by_role("button", name="Repair drift").click()
    expect(page.locator("#repair-out .result[data-state='succeeded']")).to_be_visible(timeout=LONG)
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_role("status").filter(has_text="compared with release")).to_contain_text("in-sync")


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def scenario_redeliver(page: Page, port: int):
    step("redeliver a failed webhook once its receiver is up")
    open_tab(page, "Webhooks")
    log = page.get_by_role("table", name=f"Deliveries to http://127.0.0.1:{port}/***")  # the path is masked: it may hold a token
    expect(log.get_by_role("row").nth(1)).not_to_contain_text("delivered")
    server = http.server.HTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        log.get_by_role("button", name="Redeliver").first.click()
        row = log.get_by_role("row").nth(1)
        expect(row).to_contain_text("delivered", timeout=LONG)
        row.locator("summary").click()
        expect(row.get_by_role("listitem").first).to_contain_text("HTTP 204")
        check_view(page, "webhooks")
    finally:
        server.shutdown()


def scenario_cache(page: Page):
    step("cache settings: test connection, save, and a publish's cache step")
    open_tab(page, "Cache")
    enabled = page.get_by_role("checkbox", name="Cache enabled")
    expect(enabled).not_to_be_checked()
    enabled.check()
    page.get_by_label("Redis type").select_option("tcp")
    page.get_by_label("Redis URL").fill(A.redis_url)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#cache-out")).to_contain_text("reachable", timeout=LONG)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#cache-out")).to_contain_text("Saved.")
    check_view(page, "cache")
    out = publish_and_wait(page, "succeeded")
    expect(out.get_by_text("Cache step:")).to_contain_text("done", timeout=LONG)


def scenario_rest(page: Page, project):
    step("schedules and the audit log with its filters")
    if A.redis_url:
        scenario_cache(page)
    open_tab(page, "Schedules")
    expect(page.get_by_text("Nothing scheduled")).to_be_visible()
    page.get_by_label("Run at (your local time)").fill("2099-01-01T12:00")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_role("table", name="Schedules")).to_contain_text("pending")
    check_view(page, "schedules")
    open_tab(page, "Audit")
    page.get_by_label("Action (e.g. publish, page.update)").fill("rollback")
    page.get_by_role("button", name="Search").click()
    audit = page.get_by_role("table", name="Audit entries, newest first")
    expect(audit.get_by_role("row")).to_have_count(2)
    check_view(page, "audit")
    step("a publish token cannot list projects: it is asked for the project")
    pub = api("POST", "/api/tokens", {"name": f"publisher-{A.label}", "scopes": ["publish"], "project": project["slug"]})
    page.get_by_role("button", name="Change token").click()
    sign_in(page, pub["token"])
    page.get_by_label("Project slug").fill(project["slug"])
    page.get_by_role("button", name="Open project").click()
    expect(page.get_by_role("table", name=re.compile(r"^Jobs \(\d+, newest first\)$"))).to_be_visible()
    open_tab(page, "Targets")
    expect(page.get_by_role("alert")).to_contain_text("lacks the scope")


def main():
    project = setup()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            if A.from_disk:
                here = pathlib.Path(__file__).resolve().parent.parent

                def from_disk(route):
                    name = route.request.url.split("/console/", 1)[1].split("#")[0] or "index.html"
                    kind = {"js": "text/javascript", "css": "text/css", "html": "text/html"}[name.rsplit(".", 1)[1]]
                    route.fulfill(body=(here / name).read_text(), content_type=kind)

                page.route("**/console/*", from_disk)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # The policy forbids inline script and style: a violation means a view is broken.
            page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
            scenario_publish(page, project)
            if not A.only_publish:
                turso = Turso()
                try:
                    scenario_partial_and_retry(page, project, turso)
                    scenario_rollback(page, project)
                    scenario_repair(page, project)
                    scenario_redeliver(page, HOOK_PORT)
                    scenario_rest(page, project)
                finally:
                    turso.stop()
                step("phone width")
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto(f"{A.url}/console/#/p/{project['slug']}/jobs")
                expect(page.get_by_role("heading", level=2, name="Jobs")).to_be_visible()
                check_view(page, "phone-jobs")
            assert not errors, f"script errors in the page: {errors}"
        finally:
            browser.close()
    step("passed")


main()
